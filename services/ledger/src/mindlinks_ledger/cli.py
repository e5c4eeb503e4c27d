"""``mindlinks-ledger-verify``: what an auditor runs, with no database access.

    mindlinks-ledger-verify proof --entry entry.json --proof proof.json \\
        --digest digest.json [--pdf contract.pdf]
    mindlinks-ledger-verify proof --bundle export.json [--pdf contract.pdf]
    mindlinks-ledger-verify chain entries.jsonl [--digest digest.json]
    mindlinks-ledger-verify consistency --old old-digest.json --new new-digest.json \\
        --proof consistency.json

``export.json`` is what ``GET /v1/ledger/entries/{seq}/export`` answers;
``entries.jsonl`` one entry per line in ``seq`` order. Prints each check and
exits 0 when everything verifies, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

from pydantic import ValidationError

from mindlinks_ledger import merkle
from mindlinks_ledger.chain import ZERO_HASH, Entry, find_break
from mindlinks_ledger.verification import Check, DigestDoc, EntryDoc, ProofDoc, verify_bundle

D = TypeVar("D", EntryDoc, ProofDoc, DigestDoc)


class _Unreadable(Exception):
    """An input file that is not what it should be."""


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _Unreadable(f"{path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Unreadable(f"{path}: not JSON ({exc})") from None


def _doc(kind: type[D], raw: Any, where: str) -> D:
    try:
        return kind.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(p) for p in first.get("loc", ())) or "(top)"
        raise _Unreadable(
            f"{where}: not a ledger {kind.__name__[:-3].lower()} ({at}: "
            f"{first.get('msg', 'invalid')})"
        ) from None


def _report(checks: Sequence[Check], out: TextIO) -> int:
    for check in checks:
        out.write(f"{'OK  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}\n")
    failed = [c.name for c in checks if not c.ok]
    if failed:
        out.write(f"FAILED: {', '.join(failed)}\n")
        return 1
    out.write("OK: every check passed\n")
    return 0


def _proof(args: argparse.Namespace, out: TextIO) -> int:
    if args.bundle:
        bundle = _json(args.bundle)
        if not isinstance(bundle, dict):
            raise _Unreadable(f"{args.bundle}: an export is a JSON object {{entry, proof, digest}}")
        raw_entry, raw_proof, raw_digest = (bundle.get(k) for k in ("entry", "proof", "digest"))
        names = (str(args.bundle) + "#" + k for k in ("entry", "proof", "digest"))
        entry_at, proof_at, digest_at = names
    else:
        if not (args.entry and args.proof and args.digest):
            raise _Unreadable("give --bundle, or all of --entry, --proof and --digest")
        raw_entry, raw_proof, raw_digest = (
            _json(args.entry),
            _json(args.proof),
            _json(args.digest),
        )
        entry_at, proof_at, digest_at = str(args.entry), str(args.proof), str(args.digest)
    entry = _doc(EntryDoc, raw_entry, entry_at)
    proof = _doc(ProofDoc, raw_proof, proof_at)
    digest = _doc(DigestDoc, raw_digest, digest_at)
    pdf_sha256 = None
    if args.pdf:
        try:
            pdf_sha256 = hashlib.sha256(args.pdf.read_bytes()).hexdigest()
        except OSError as exc:
            raise _Unreadable(f"{args.pdf}: {exc.strerror or exc}") from None
    return _report(verify_bundle(entry, proof, digest, pdf_sha256), out)


def _entries(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise _Unreadable(f"{path}: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entries.append(Entry.from_json(json.loads(line)))
        except ValueError as exc:  # JSONDecodeError is a ValueError
            raise _Unreadable(f"{path}:{number}: not a ledger entry ({exc})") from None
    if not entries:
        raise _Unreadable(f"{path}: no entries")
    return entries


def _chain(args: argparse.Namespace, out: TextIO) -> int:
    entries = _entries(args.entries)
    first = entries[0]
    start_prev = ZERO_HASH if first.seq == 1 else first.prev_hash
    if first.seq != 1:
        out.write(
            f"note: the export starts at entry {first.seq}; links before it are not checked\n"
        )
    broken = find_break(entries, start_seq=first.seq, start_prev=start_prev)
    checks = [
        Check(
            "chain",
            broken is None,
            f"entries {first.seq}..{entries[-1].seq} link up, tip {entries[-1].entry_hash}"
            if broken is None
            else f"broken at entry {broken.seq} ({broken.check}): {broken.detail}",
        )
    ]
    if args.digest:
        digest = _doc(DigestDoc, _json(args.digest), str(args.digest))
        checks.append(_chain_digest(entries, digest))
    return _report(checks, out)


def _chain_digest(entries: list[Entry], digest: DigestDoc) -> Check:
    if entries[0].seq != 1 or len(entries) < digest.tree_size:
        return Check("digest", False, f"the export does not hold entries 1..{digest.tree_size}")
    covered = entries[: digest.tree_size]
    leaves = [merkle.leaf_hash(bytes.fromhex(e.entry_hash)) for e in covered]
    computed = merkle.root(leaves).hex()
    tip_ok = not covered or covered[-1].entry_hash == digest.tip_hash
    ok = computed == digest.root_hash and tip_ok and digest.tip_seq == digest.tree_size
    return Check(
        "digest",
        ok,
        f"the first {digest.tree_size} entries have root {computed}; the digest says "
        f"{digest.root_hash} (tip {'matches' if tip_ok else 'differs'})",
    )


def _consistency(args: argparse.Namespace, out: TextIO) -> int:
    old = _doc(DigestDoc, _json(args.old), str(args.old))
    new = _doc(DigestDoc, _json(args.new), str(args.new))
    raw = _json(args.proof)
    path = raw.get("consistencyPath") if isinstance(raw, dict) else raw
    if not isinstance(path, list) or not all(isinstance(h, str) and len(h) == 64 for h in path):
        raise _Unreadable(f"{args.proof}: not a consistency proof (a list of hex hashes)")
    try:
        hashes = [bytes.fromhex(h) for h in path]
    except ValueError:
        raise _Unreadable(f"{args.proof}: not hex") from None
    ok = merkle.verify_consistency(
        old.tree_size,
        new.tree_size,
        bytes.fromhex(old.root_hash),
        bytes.fromhex(new.root_hash),
        hashes,
    )
    detail = (
        f"the tree of {old.tree_size} entries (root {old.root_hash}) "
        f"{'is' if ok else 'is not proven to be'} a prefix of the tree of "
        f"{new.tree_size} (root {new.root_hash})"
    )
    return _report([Check("consistency", ok, detail)], out)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="mindlinks-ledger-verify",
        description="Verify Mind-Links ledger exports offline (no database access).",
    )
    commands = root.add_subparsers(dest="command", required=True)
    proof = commands.add_parser("proof", help="an entry's inclusion in a digest")
    proof.add_argument("--bundle", type=Path, help="an export {entry, proof, digest}")
    proof.add_argument("--entry", type=Path, help="the entry (JSON)")
    proof.add_argument("--proof", type=Path, help="its proof {leafIndex, treeSize, auditPath}")
    proof.add_argument("--digest", type=Path, help="the digest {treeSize, rootHash, ...}")
    proof.add_argument("--pdf", type=Path, help="a PDF whose SHA-256 the entry must record")
    proof.set_defaults(run=_proof)
    chain = commands.add_parser("chain", help="the hash chain of an entries export (JSONL)")
    chain.add_argument("entries", type=Path)
    chain.add_argument("--digest", type=Path, help="a digest the entries must produce")
    chain.set_defaults(run=_chain)
    consistency = commands.add_parser(
        "consistency", help="that a newer digest extends an older one"
    )
    consistency.add_argument("--old", type=Path, required=True)
    consistency.add_argument("--new", type=Path, required=True)
    consistency.add_argument("--proof", type=Path, required=True)
    consistency.set_defaults(run=_consistency)
    return root


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = parser().parse_args(argv)
    stream = out or sys.stdout
    try:
        code: int = args.run(args, stream)
    except _Unreadable as exc:
        stream.write(f"FAILED: {exc}\n")
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

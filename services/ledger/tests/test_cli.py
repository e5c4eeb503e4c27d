"""``mindlinks-ledger-verify``: an auditor checks exports offline, with files only."""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mindlinks_ledger import cli

if TYPE_CHECKING:
    from conftest import Contract, Ledger


def run(*argv: str | Path) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main([str(a) for a in argv], out=out)
    return code, out.getvalue()


def write(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


async def exported(ledger: Ledger) -> tuple[Contract, int, dict[str, Any]]:
    contract, _, _ = await ledger.activate()
    seq = contract.signature_seqs[0]
    response = await ledger.client.get(
        f"/v1/ledger/entries/{seq}/export",
        headers=ledger.user(contract.client_user_id, "client"),
    )
    assert response.status_code == 200, response.text
    return contract, seq, response.json()


def test_the_console_script_is_declared() -> None:
    pyproject = Path(__file__).parents[1] / "pyproject.toml"
    scripts = tomllib.loads(pyproject.read_text())["project"]["scripts"]
    assert scripts == {"mindlinks-ledger-verify": "mindlinks_ledger.cli:main"}


async def test_an_export_verifies_offline(ledger: Ledger, tmp_path: Path) -> None:
    contract, _, export = await exported(ledger)
    entry = write(tmp_path / "entry.json", export["entry"])
    proof = write(tmp_path / "proof.json", export["proof"])
    digest = write(tmp_path / "digest.json", export["digest"])
    code, out = run("proof", "--entry", entry, "--proof", proof, "--digest", digest)
    assert code == 0, out
    assert out.endswith("OK: every check passed\n")
    assert "OK    inclusion" in out

    bundle = write(tmp_path / "export.json", export)
    assert run("proof", "--bundle", bundle)[0] == 0

    # The signed PDF's bytes: its SHA-256 must be the one the entry records.
    pdf = tmp_path / "contract.pdf"
    pdf.write_bytes(f"original {contract.id}".encode())
    code, out = run("proof", "--bundle", bundle, "--pdf", pdf)
    assert code == 0, out
    assert "OK    pdf" in out
    pdf.write_bytes(b"%PDF-1.7 something else")
    code, out = run("proof", "--bundle", bundle, "--pdf", pdf)
    assert code == 1
    assert "FAIL  pdf" in out


async def test_a_modified_file_fails(ledger: Ledger, tmp_path: Path) -> None:
    _, _, export = await exported(ledger)
    proof = write(tmp_path / "proof.json", export["proof"])
    digest = write(tmp_path / "digest.json", export["digest"])
    entry = tmp_path / "entry.json"

    changed = {**export["entry"], "data": {**export["entry"]["data"], "signerRole": "client!"}}
    write(entry, changed)
    code, out = run("proof", "--entry", entry, "--proof", proof, "--digest", digest)
    assert code == 1
    assert "FAIL  content-hash" in out
    assert out.splitlines()[-1].startswith("FAILED: content-hash")

    write(entry, export["entry"])
    other_root = {**export["digest"], "rootHash": "ab" * 32}
    write(digest, other_root)
    code, out = run("proof", "--entry", entry, "--proof", proof, "--digest", digest)
    assert code == 1
    assert "FAIL  inclusion" in out

    write(digest, export["digest"])
    path = export["proof"]["auditPath"]
    write(proof, {**export["proof"], "auditPath": [*path[:-1], "cd" * 32]})
    code, out = run("proof", "--entry", entry, "--proof", proof, "--digest", digest)
    assert code == 1
    assert "FAIL  inclusion" in out


async def test_unreadable_inputs_fail_cleanly(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    code, out = run("proof", "--bundle", garbage)
    assert (code, out.startswith("FAILED:")) == (1, True)
    code, out = run("proof", "--bundle", tmp_path / "missing.json")
    assert (code, out.startswith("FAILED:")) == (1, True)
    code, out = run("proof", "--bundle", write(tmp_path / "list.json", []))
    assert code == 1
    wrong = write(tmp_path / "wrong.json", {"entry": {"seq": "one"}, "proof": {}, "digest": {}})
    code, out = run("proof", "--bundle", wrong)
    assert code == 1
    assert "not a ledger entry" in out
    code, out = run("proof", "--entry", wrong)
    assert code == 1
    assert "give --bundle" in out
    code, out = run("chain", write(tmp_path / "empty.jsonl", ""))
    assert code == 1


async def test_a_chain_export_verifies_and_a_changed_line_fails(
    ledger: Ledger, tmp_path: Path
) -> None:
    await ledger.append()
    ops = ledger.service("admin")
    digest = (await ledger.client.get("/v1/ledger/digest", headers=ledger.admin())).json()
    page = await ledger.client.get("/internal/ledger/entries", params={"limit": 1000}, headers=ops)
    entries = [e for e in page.json()["items"] if e["seq"] <= digest["treeSize"]]
    export = tmp_path / "entries.jsonl"
    export.write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    digest_file = write(tmp_path / "digest.json", digest)

    code, out = run("chain", export, "--digest", digest_file)
    assert code == 0, out
    assert "OK    chain" in out
    assert "OK    digest" in out

    # A later slice verifies on its own, from its first entry's prevHash.
    tail = tmp_path / "tail.jsonl"
    tail.write_text("\n".join(json.dumps(e) for e in entries[2:]))
    code, out = run("chain", tail)
    assert code == 0, out
    assert out.startswith("note: the export starts at entry 3")

    changed = [dict(e) for e in entries]
    changed[1] = {**changed[1], "data": {**changed[1]["data"], "extra": 1}}
    export.write_text("\n".join(json.dumps(e) for e in changed))
    code, out = run("chain", export)
    assert code == 1
    assert "broken at entry 2 (content-hash)" in out

    dropped = [e for e in entries if e["seq"] != 2]
    export.write_text("\n".join(json.dumps(e) for e in dropped))
    code, out = run("chain", export, "--digest", digest_file)
    assert code == 1
    assert "broken at entry 2 (missing)" in out
    assert "FAIL  digest" in out


async def test_consistency_between_an_old_and_a_new_digest(ledger: Ledger, tmp_path: Path) -> None:
    user = ledger.admin()
    old = (await ledger.client.get("/v1/ledger/digest", headers=user)).json()
    await ledger.append()
    new = (await ledger.client.get("/v1/ledger/digest", headers=user)).json()
    proof = await ledger.client.get(
        "/v1/ledger/consistency",
        params={"first": old["treeSize"], "second": new["treeSize"]},
        headers=user,
    )
    old_file = write(tmp_path / "old.json", old)
    new_file = write(tmp_path / "new.json", new)
    proof_file = write(tmp_path / "consistency.json", proof.json())
    code, out = run("consistency", "--old", old_file, "--new", new_file, "--proof", proof_file)
    assert code == 0, out
    write(old_file, {**old, "rootHash": "ee" * 32})
    code, out = run("consistency", "--old", old_file, "--new", new_file, "--proof", proof_file)
    assert code == 1
    assert "FAIL  consistency" in out

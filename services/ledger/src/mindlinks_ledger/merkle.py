"""Merkle trees as RFC 6962 (Certificate Transparency) defines them; pure functions.

- leaf hash ``SHA-256(0x00 || data)``, interior node ``SHA-256(0x01 || left || right)``
  (the prefixes keep a leaf from ever passing for a node: second-preimage safe);
- ``MTH`` of ``n > 1`` leaves splits at ``k``, the largest power of two below
  ``n``: ``MTH(D[0:k])`` on the left, ``MTH(D[k:n])`` on the right; an odd node
  is carried up, never duplicated (Bitcoin's duplication is CVE-2012-2459);
- the empty tree's hash is ``SHA-256("")``;
- inclusion proofs (audit paths) and consistency proofs, with the verifiers of
  RFC 9162 §2.1.3.2 and §2.1.4.2, which need nothing but the proof.

Trees are given as their leaf hashes (``leaf_hash`` of each datum, in order).
Generators raise ``ValueError`` on impossible requests; verifiers never raise,
they answer ``False`` for anything that does not prove the claim.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE + left + right).digest()


def split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n >= 2``)."""
    if n < 2:
        raise ValueError("only a tree of two or more leaves splits")
    return 1 << ((n - 1).bit_length() - 1)


def _check_hashes(leaves: Sequence[bytes]) -> None:
    if any(len(h) != HASH_SIZE for h in leaves):
        raise ValueError(f"leaf hashes are {HASH_SIZE} bytes")


Memo = dict[tuple[int, int], bytes]
"""Hashes of complete subtrees ``(lo, hi)`` of one growing list of leaves."""
MEMO_MIN = 64
"""Only complete subtrees of at least this many leaves are remembered: about
``2n / MEMO_MIN`` hashes, and no root or proof hashes more than
``2 * MEMO_MIN`` leaves per level."""


def _mth(leaves: Sequence[bytes], lo: int, hi: int, memo: Memo | None = None) -> bytes:
    n = hi - lo
    if n == 1:
        return leaves[lo]
    # A complete subtree's hash depends on its leaves only, so it never changes
    # while the list only grows: remember it.
    kept = memo is not None and n >= MEMO_MIN and n & (n - 1) == 0
    if kept and memo is not None and (lo, hi) in memo:
        return memo[(lo, hi)]
    k = split(n)
    found = node_hash(_mth(leaves, lo, lo + k, memo), _mth(leaves, lo + k, hi, memo))
    if kept and memo is not None:
        memo[(lo, hi)] = found
    return found


def root(leaves: Sequence[bytes], memo: Memo | None = None) -> bytes:
    """The Merkle tree hash of the tree whose leaf hashes are ``leaves``.

    ``memo`` remembers complete subtrees across calls over the same leaves (a
    list that only ever grows, checked once by its owner)."""
    if memo is None:
        _check_hashes(leaves)
    return _mth(leaves, 0, len(leaves), memo) if leaves else EMPTY_ROOT


def inclusion_proof(leaves: Sequence[bytes], index: int, memo: Memo | None = None) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of all ``leaves``, leaf to root."""
    if memo is None:
        _check_hashes(leaves)
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    path: list[bytes] = []
    lo, hi, m = 0, len(leaves), index
    # PATH(m, D[lo:hi]) = PATH(m, one half) : MTH(other half); collected root-first.
    while hi - lo > 1:
        k = split(hi - lo)
        if m < k:
            path.append(_mth(leaves, lo + k, hi, memo))
            hi = lo + k
        else:
            path.append(_mth(leaves, lo, lo + k, memo))
            lo, m = lo + k, m - k
    path.reverse()
    return path


def consistency_proof(leaves: Sequence[bytes], first: int, memo: Memo | None = None) -> list[bytes]:
    """Proof that the tree of the first ``first`` leaves is a prefix of the tree
    of all ``leaves`` (RFC 6962 §2.1.2). Empty when ``first`` is 0 or all."""
    if memo is None:
        _check_hashes(leaves)
    second = len(leaves)
    if not 0 <= first <= second:
        raise ValueError(f"a tree of {second} has no prefix of {first}")
    if first in (0, second):
        return []
    proof: list[bytes] = []
    lo, hi, m, whole = 0, second, first, True
    # SUBPROOF(m, D[lo:hi], whole), collected root-first.
    while m != hi - lo:
        k = split(hi - lo)
        if m <= k:
            proof.append(_mth(leaves, lo + k, hi, memo))
            hi = lo + k
        else:
            proof.append(_mth(leaves, lo, lo + k, memo))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        proof.append(_mth(leaves, lo, hi, memo))
    proof.reverse()
    return proof


def _well_formed(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root that ``proof`` implies for ``leaf`` at ``index`` of ``size``, or
    ``None`` when the proof's shape cannot belong to such a tree."""
    if not (0 <= index < size) or not _well_formed(leaf, *proof):
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """Whether ``leaf`` (a leaf hash) is leaf ``index`` of the tree of ``size``
    whose root is ``expected_root`` (RFC 9162 §2.1.3.2)."""
    computed = root_from_inclusion(leaf, index, size, proof)
    return (
        computed is not None
        and _well_formed(expected_root)
        and hmac.compare_digest(computed, expected_root)
    )


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether the tree of ``first`` leaves with ``first_root`` is a prefix of the
    tree of ``second`` leaves with ``second_root`` (RFC 9162 §2.1.4.2)."""
    if not (0 <= first <= second) or not _well_formed(first_root, second_root, *proof):
        return False
    if first == second:
        return not proof and hmac.compare_digest(first_root, second_root)
    if first == 0:
        return not proof and hmac.compare_digest(first_root, EMPTY_ROOT)
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the old root is a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, first_root) and hmac.compare_digest(sr, second_root)

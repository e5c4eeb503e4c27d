"""RFC 6962 Merkle trees: the Certificate Transparency reference vectors, then
properties over every tree of 1..64 leaves. No I/O."""

from __future__ import annotations

import hashlib

import pytest

from mindlinks_ledger import merkle

# The Certificate Transparency reference leaves and tree heads (RFC 6962; the
# same values ship with transparency-dev/merkle and certificate-transparency-go).
CT_DATA = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # empty tree
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_LEAVES = [merkle.leaf_hash(d) for d in CT_DATA]
CT_INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
CT_CONSISTENCY = [
    (
        2,
        8,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

N = 64
LEAVES = [merkle.leaf_hash(hashlib.sha256(f"entry {i}".encode()).digest()) for i in range(N)]
ROOTS = [merkle.root(LEAVES[:n]) for n in range(N + 1)]


def flip(h: bytes, bit: int = 0) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


def test_the_empty_tree_is_the_hash_of_nothing() -> None:
    assert merkle.EMPTY_ROOT.hex() == CT_ROOTS[0]
    assert merkle.root([]).hex() == CT_ROOTS[0]


def test_leaf_and_node_hashes_use_the_domain_prefixes() -> None:
    assert merkle.leaf_hash(b"").hex() == CT_ROOTS[1]
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    left, right = CT_LEAVES[0], CT_LEAVES[1]
    assert merkle.node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert merkle.node_hash(left, right).hex() == CT_ROOTS[2]
    assert merkle.node_hash(left, right) != merkle.node_hash(right, left)


@pytest.mark.parametrize("size", range(len(CT_DATA) + 1))
def test_roots_match_the_reference(size: int) -> None:
    assert merkle.root(CT_LEAVES[:size]).hex() == CT_ROOTS[size]


def test_the_split_is_the_largest_power_of_two_below() -> None:
    expected = {2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 8: 4, 9: 8, 1000: 512, 2**40 + 1: 2**40}
    assert {n: merkle.split(n) for n in expected} == expected
    with pytest.raises(ValueError, match="two or more"):
        merkle.split(1)


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_inclusion_proofs_match_the_reference(index: int, size: int, path: list[str]) -> None:
    proof = merkle.inclusion_proof(CT_LEAVES[:size], index)
    assert [h.hex() for h in proof] == path
    root = bytes.fromhex(CT_ROOTS[size])
    assert merkle.verify_inclusion(CT_LEAVES[index], index, size, proof, root)


@pytest.mark.parametrize(("first", "second", "path"), CT_CONSISTENCY)
def test_consistency_proofs_match_the_reference(first: int, second: int, path: list[str]) -> None:
    proof = merkle.consistency_proof(CT_LEAVES[:second], first)
    assert [h.hex() for h in proof] == path
    assert merkle.verify_consistency(
        first, second, bytes.fromhex(CT_ROOTS[first]), bytes.fromhex(CT_ROOTS[second]), proof
    )


def test_every_leaf_of_every_tree_up_to_64_verifies() -> None:
    for size in range(1, N + 1):
        tree = LEAVES[:size]
        for index in range(size):
            proof = merkle.inclusion_proof(tree, index)
            assert merkle.verify_inclusion(tree[index], index, size, proof, ROOTS[size]), (
                index,
                size,
            )
            # The proof is exactly as long as the leaf's depth (ceil(log2) at most).
            assert len(proof) <= (size - 1).bit_length()


def test_a_changed_leaf_sibling_index_size_or_root_fails() -> None:
    for size in range(1, N + 1):
        tree = LEAVES[:size]
        root = ROOTS[size]
        for index in range(size):
            proof = merkle.inclusion_proof(tree, index)
            leaf = tree[index]
            assert not merkle.verify_inclusion(flip(leaf), index, size, proof, root)
            assert not merkle.verify_inclusion(leaf, index, size, proof, flip(root))
            for i in range(len(proof)):
                changed = [*proof[:i], flip(proof[i], 3), *proof[i + 1 :]]
                assert not merkle.verify_inclusion(leaf, index, size, changed, root)
            if proof:
                assert not merkle.verify_inclusion(leaf, index, size, proof[:-1], root)
            assert not merkle.verify_inclusion(leaf, index, size, [*proof, leaf], root)
            # A proof binds the leaf to the root of its own tree size only (the size
            # itself is bound by the digest that carries the root).
            for other_size in (size - 1, size + 1):
                if index < other_size <= N:
                    other_root = ROOTS[other_size]
                    assert not merkle.verify_inclusion(leaf, index, other_size, proof, other_root)
            for other_index in (index - 1, index + 1):
                if 0 <= other_index < size and tree[other_index] != leaf:
                    assert not merkle.verify_inclusion(leaf, other_index, size, proof, root)
            # Another tree's leaf never passes for this one.
            if size > 1:
                other = tree[(index + 1) % size]
                assert not merkle.verify_inclusion(other, index, size, proof, root)


def test_every_consistency_proof_up_to_64_verifies_and_tampering_fails() -> None:
    for second in range(N + 1):
        tree = LEAVES[:second]
        for first in range(second + 1):
            proof = merkle.consistency_proof(tree, first)
            old, new = ROOTS[first], ROOTS[second]
            assert merkle.verify_consistency(first, second, old, new, proof), (first, second)
            if 0 < first < second:
                assert not merkle.verify_consistency(first, second, flip(old), new, proof)
                assert not merkle.verify_consistency(first, second, old, flip(new), proof)
                assert not merkle.verify_consistency(first, second, old, new, proof[:-1])
                changed = [flip(proof[0], 5), *proof[1:]]
                assert not merkle.verify_consistency(first, second, old, new, changed)
                if second < N:
                    newer = ROOTS[second + 1]
                    assert not merkle.verify_consistency(first, second + 1, old, newer, proof)


def test_degenerate_consistency_cases() -> None:
    assert merkle.verify_consistency(0, 8, merkle.EMPTY_ROOT, ROOTS[8], [])
    assert not merkle.verify_consistency(0, 8, ROOTS[1], ROOTS[8], [])
    assert not merkle.verify_consistency(0, 8, merkle.EMPTY_ROOT, ROOTS[8], [ROOTS[1]])
    assert merkle.verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    assert not merkle.verify_consistency(5, 5, ROOTS[5], ROOTS[6], [])
    assert not merkle.verify_consistency(5, 5, ROOTS[5], ROOTS[5], [ROOTS[1]])
    assert not merkle.verify_consistency(6, 5, ROOTS[6], ROOTS[5], [])
    assert not merkle.verify_consistency(3, 5, ROOTS[3], ROOTS[5], [])


def test_verifiers_answer_false_to_garbage_and_generators_refuse() -> None:
    proof = merkle.inclusion_proof(CT_LEAVES, 5)
    root = bytes.fromhex(CT_ROOTS[8])
    assert not merkle.verify_inclusion(CT_LEAVES[5][:31], 5, 8, proof, root)
    assert not merkle.verify_inclusion(CT_LEAVES[5], 5, 8, proof, root[:31])
    assert not merkle.verify_inclusion(CT_LEAVES[5], 5, 8, [proof[0][:31], *proof[1:]], root)
    assert not merkle.verify_inclusion(CT_LEAVES[5], 8, 8, proof, root)
    assert not merkle.verify_inclusion(CT_LEAVES[5], -1, 8, proof, root)
    assert not merkle.verify_inclusion(CT_LEAVES[5], 0, 0, [], merkle.EMPTY_ROOT)
    with pytest.raises(ValueError, match="not in a tree"):
        merkle.inclusion_proof(CT_LEAVES, 8)
    with pytest.raises(ValueError, match="not in a tree"):
        merkle.inclusion_proof([], 0)
    with pytest.raises(ValueError, match="no prefix"):
        merkle.consistency_proof(CT_LEAVES, 9)
    with pytest.raises(ValueError, match="32 bytes"):
        merkle.root([b"short"])


def test_a_memo_over_a_growing_list_gives_the_same_roots_and_proofs() -> None:
    """The journal keeps one memo of complete subtrees while its leaf list
    grows: every root, audit path and consistency proof must stay exact."""
    leaves = [merkle.leaf_hash(hashlib.sha256(b"%d" % i).digest()) for i in range(300)]
    memo: merkle.Memo = {}
    for size in (1, 63, 64, 65, 128, 129, 200, 256, 257, 300):
        grown = leaves[:size]
        assert merkle.root(grown, memo) == merkle.root(grown)
        for index in {0, size // 3, size - 1}:
            assert merkle.inclusion_proof(grown, index, memo) == merkle.inclusion_proof(
                grown, index
            )
        for first in {1, size // 2, size - 1, size}:
            assert merkle.consistency_proof(grown, first, memo) == merkle.consistency_proof(
                grown, first
            )
    assert memo
    assert all(hi - lo >= merkle.MEMO_MIN and (hi - lo) & (hi - lo - 1) == 0 for lo, hi in memo)

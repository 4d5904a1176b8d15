"""Every block of generated chains passes the independent validation of ``validation.py``."""

from __future__ import annotations

from chainindex.synthetic import ChainGenerator, ChainShape, GeneratedRecord
from tests.chainindex.synthetic.conftest import SATURATED, SATURATED_BLOCKS, SPARSE_BLOCKS
from tests.chainindex.synthetic.validation import check_chain, header_hash
from tests.fixtures import mainnet_block_files


def test_header_hash_check_reproduces_real_paris_blocks() -> None:
    # The validation's own header rebuild is right: it gives mainnet's hashes.
    import orjson

    checked = 0
    for path in mainnet_block_files():
        block = orjson.loads(path.read_bytes())["block"]
        if set(block) == {
            "baseFeePerGas", "difficulty", "extraData", "gasLimit", "gasUsed", "hash",
            "logsBloom", "miner", "mixHash", "nonce", "number", "parentHash", "receiptsRoot",
            "sha3Uncles", "size", "stateRoot", "timestamp", "transactions",
            "transactionsRoot", "uncles",
        }:  # fmt: skip
            assert header_hash(block) == block["hash"]
            checked += 1
    assert checked >= 2


def test_sparse_chain_is_valid(sparse_chain: list[GeneratedRecord]) -> None:
    assert check_chain(sparse_chain) == SPARSE_BLOCKS
    assert sum(len(r["receipts"]) for r in sparse_chain) > 1000


def test_saturated_chain_is_valid(saturated_chain: list[GeneratedRecord]) -> None:
    assert check_chain(saturated_chain) == SATURATED_BLOCKS
    logs = sum(len(rc["logs"]) for r in saturated_chain for rc in r["receipts"])
    assert logs > 10_000
    # Blocks mix transactions with and without logs, and some that reverted.
    receipts = [rc for r in saturated_chain for rc in r["receipts"]]
    assert any(not rc["logs"] for rc in receipts)
    assert any(rc["status"] == "0x0" for rc in receipts)


def test_headers_only_chain_is_valid() -> None:
    records = ChainGenerator(SATURATED, seed=3, headers_only=True).records(70)
    assert check_chain(records, headers_only=True) == 70


def test_chain_above_genesis_is_valid() -> None:
    shape = ChainShape(logs_per_block=30, block_time=2)
    records = ChainGenerator(shape, seed=5, first_block=1_000_000).records(300)
    assert check_chain(records, first=1_000_000, block_time=2) == 300


def test_json_lines_decode_to_the_records() -> None:
    import orjson

    generator = ChainGenerator(ChainShape(logs_per_block=20), seed=9)
    again = ChainGenerator(ChainShape(logs_per_block=20), seed=9)
    for line, record in zip(generator.lines(50), again.records(50), strict=True):
        assert line.endswith(b"\n")
        assert line.count(b"\n") == 1
        assert orjson.loads(line) == record

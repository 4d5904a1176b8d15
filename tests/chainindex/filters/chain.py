"""Random chains with colliding values, written to a real LevelDB, and a brute-force filter.

The chains are small pools of addresses and topics spread over blocks of 0 to 7 logs with 0
to 4 topics each (and empty blocks), so that random filters match often, miss often, and
hit every case of the rules (fewer topics than positions, wildcards, alternatives). Blooms
come from the independent ``eth-bloom`` package. :func:`reference_logs` is the filter rule
written plainly, the oracle the query path is compared with.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from pathlib import Path

from eth_bloom.bloom import BloomFilter
from eth_typing import Address, BlockNumber, Hash32

from chainindex.store import LevelDBStore, open_datadir
from chainindex.store.writer import ChainWriter
from chainindex.types import Block, ChainLog, Header

ADDRESS_POOL = [Address(bytes([0xA0 + i]) * 20) for i in range(6)]
"""The emitters of the random chains."""
TOPIC_POOL = [Hash32(bytes([0x10 + i]) * 32) for i in range(10)]
"""The topic values of the random chains."""


def bloom_of(logs: Iterable[ChainLog]) -> bytes:
    """The logsBloom of ``logs`` (eth-bloom)."""
    bloom = BloomFilter()
    for log in logs:
        bloom.add(log.address)
        for topic in log.topics:
            bloom.add(topic)
    return int(bloom).to_bytes(256, "big")


def random_chain(seed: int, count: int, first: int = 0) -> list[Block]:
    """Blocks ``first .. first + count - 1``, hash-linked, of random logs from the pools."""
    rng = random.Random(seed)
    parent = Hash32(rng.randbytes(32))
    blocks = []
    for number in range(first, first + count):
        block_hash = Hash32(rng.randbytes(32))
        timestamp = 1_700_000_000 + 12 * number
        logs: list[ChainLog] = []
        n_logs = 0 if rng.random() < 0.3 else rng.randrange(1, 8)
        tx_index = -1
        tx_hash = Hash32(b"")
        for log_index in range(n_logs):
            if log_index == 0 or rng.random() < 0.5:
                tx_index += rng.randrange(1, 3)
                tx_hash = Hash32(rng.randbytes(32))
            topics = tuple(rng.choice(TOPIC_POOL) for _ in range(rng.randrange(5)))
            logs.append(
                ChainLog(
                    rng.choice(ADDRESS_POOL),
                    topics,
                    rng.randbytes(rng.choice([0, 1, 32, 70])),
                    BlockNumber(number),
                    block_hash,
                    timestamp,
                    tx_hash,
                    tx_index,
                    log_index,
                )
            )
        header = Header(BlockNumber(number), block_hash, parent, timestamp, bloom_of(logs))
        blocks.append(Block(header, tuple(logs)))
        parent = block_hash
    return blocks


def write_chain(
    path: Path,
    blocks: Sequence[Block],
    *,
    section_size: int,
    confirmed: int,
    headers_only: bool = False,
) -> LevelDBStore:
    """A data directory at ``path`` holding ``blocks``, with every section whose last block
    is at most ``confirmed`` built."""
    store = open_datadir(path)
    writer = ChainWriter(store, section_size)
    for at in range(0, len(blocks), 64):
        part = blocks[at : at + 64]
        if headers_only:
            part = [Block(b.header, None) for b in part]
        writer.append(part, chain_id=1337, headers_only=headers_only)
    while writer.build_section(confirmed) is not None:
        pass
    return store


def reference_logs(
    logs: Iterable[ChainLog],
    addresses: Sequence[bytes],
    topics: Sequence[Sequence[bytes]],
    first: int,
    last: int,
) -> list[ChainLog]:
    """The logs of blocks ``first..last`` that match, by geth's rule, one log at a time."""
    out = []
    for log in logs:
        if not first <= log.block_number <= last:
            continue
        if addresses and log.address not in addresses:
            continue
        if len(log.topics) < len(topics):
            continue
        if all(not wanted or log.topics[i] in wanted for i, wanted in enumerate(topics)):
            out.append(log)
    return out

"""The corpus of the text-index benchmark: logs of the project's synthetic chain.

The logs come from :mod:`chainindex.synthetic` (what ``logfilter generate`` writes): a
deterministic mainnet-like chain, its blocks parsed with the indexer's own validating parser
(:func:`chainindex.source.parse.parse_block`). Its event mix is dominated by ERC-20
transfers and carries string-bearing events (ENS-style registrations, text records, token
URIs) drawn from a word list, so the text fields hold real words.
"""

from __future__ import annotations

from collections.abc import Iterator

from chainindex.source.parse import parse_block
from chainindex.synthetic import ChainGenerator, ChainShape
from chainindex.types import ChainLog

__all__ = ["corpus_logs"]


def corpus_logs(n_logs: int, seed: int = 1) -> Iterator[ChainLog]:
    """The first ``n_logs`` logs of the default synthetic chain (saturated blooms, a few
    hundred logs per block), in chain order."""
    generator = ChainGenerator(ChainShape(), seed=seed)
    produced = 0
    while produced < n_logs:
        for record in generator.records(64):
            block = parse_block(record["block"], record["receipts"])
            for log in block.logs or ():
                if produced == n_logs:
                    return
                yield log
                produced += 1

"""Range splitting against a reference: whatever limits a server enforces and however it
words them, ``log_pages`` returns exactly the logs of the range, in order, or raises
:class:`BlockLimitError` naming the first block that no range can make fit — and it always
ends.

The "server" here is a pure function over a list of per-block log counts (a unit test of the
splitting logic; the same splitting runs against a real HTTP front over anvil in
``test_client_limits.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest
from eth_typing import Address, BlockNumber, Hash32
from hypothesis import given, settings
from hypothesis import strategies as st

from rpc.client.errors import BlockLimitError, NodeError, node_error
from rpc.client.filters import BlockId, Filter
from rpc.client.logs import LogStream, log_pages
from rpc.client.paging import RangePager
from rpc.client.types import Log

WORDINGS = {
    "contract": None,  # -32005 with data.from/data.to, as RPC-CONTRACT.md says
    "infura": "query returned more than {max} results",
    "reth": "query exceeds max results {max}, retry with the range {first}-{to}",
    "alchemy": (
        "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block "
        "range and no limit on the response size, or you can request any block range with a "
        "cap of 10K logs in the response. Based on your parameters, this block range should "
        "work: [{first_hex}, {to_hex}]"
    ),
    "bogus-suggestion": "query returned more than {max} results; try [{first_hex}, {bogus_hex}]",
    "timeout": None,  # -32002 request timed out: halving is all the client can do
}


def make_log(block: int, index: int) -> Log:
    return Log(
        address=Address(b"\x01" * 20),
        topics=(),
        data=index.to_bytes(4, "big"),
        block_number=BlockNumber(block),
        block_hash=Hash32(block.to_bytes(32, "big")),
        block_timestamp=block,
        transaction_hash=Hash32(b"\x02" * 32),
        transaction_index=0,
        log_index=index,
    )


@dataclass
class FakeServer:
    """Answers ``eth_getLogs`` over ``counts`` (logs per block) under its limits."""

    counts: list[int]
    max_results: int | None
    max_range: int | None
    wording: str
    calls: list[tuple[int, int]] = field(default_factory=list)

    def limit_error(self, first: int, last: int, kind: str) -> NodeError:
        if kind == "blockRange":
            assert self.max_range is not None
            to = first + self.max_range - 1
            maximum = self.max_range
        else:
            assert self.max_results is not None
            total, to = 0, first - 1
            for block in range(first, last + 1):
                total += self.counts[block]
                if total > self.max_results:
                    break
                to = block
            to = max(to, first)
            maximum = self.max_results
        if self.wording == "timeout":
            return node_error("eth_getLogs", -32002, "request timed out")
        if self.wording == "contract":
            message = f"query exceeds max {kind}; try with this block range [{first:#x}, {to:#x}]"
            data = {"limit": kind, "max": maximum, "from": hex(first), "to": hex(to)}
            return node_error("eth_getLogs", -32005, message, data)
        wording = WORDINGS[self.wording]
        assert wording is not None
        return node_error(
            "eth_getLogs",
            -32000,
            wording.format(
                max=maximum,
                first=first,
                to=to,
                first_hex=hex(first),
                to_hex=hex(to),
                bogus_hex=hex(last + 5),
            ),
        )

    async def fetch(self, criteria: Filter) -> list[Log]:
        first = criteria.from_block
        last = criteria.to_block
        head = len(self.counts) - 1
        first = head if first in (None, "latest") else first
        last = head if last in (None, "latest") else last
        assert isinstance(first, int)
        assert isinstance(last, int)
        self.calls.append((first, last))
        if len(self.calls) > call_bound(len(self.counts)):
            raise AssertionError(f"too many calls: {self.calls[-10:]}")
        if self.max_range is not None and last - first + 1 > self.max_range:
            raise self.limit_error(first, last, "blockRange")
        logs = [make_log(b, i) for b in range(first, last + 1) for i in range(self.counts[b])]
        if self.max_results is not None and len(logs) > self.max_results:
            raise self.limit_error(first, last, "results")
        return logs[::-1]  # a server may answer out of order: the client sorts

    async def resolve(self, block: BlockId) -> int:
        assert block == "latest" or isinstance(block, int)
        return len(self.counts) - 1 if block == "latest" else block


@st.composite
def servers(draw: st.DrawFn) -> FakeServer:
    counts = draw(st.lists(st.integers(0, 3) | st.integers(0, 40), min_size=1, max_size=120))
    max_results = draw(st.none() | st.integers(1, 60))
    wording = draw(st.sampled_from(sorted(WORDINGS)))
    max_range = draw(st.none() | st.integers(1, 50)) if wording in ("contract", "timeout") else None
    return FakeServer(counts, max_results, max_range, wording)


def reference(server: FakeServer, first: int, last: int) -> list[Log] | int:
    """The logs of first..last in order, or the first block that cannot fit any query."""
    if server.max_results is not None:
        for block in range(first, last + 1):
            if server.counts[block] > server.max_results:
                return block
    return [make_log(b, i) for b in range(first, last + 1) for i in range(server.counts[b])]


async def collect(server: FakeServer, criteria: Filter, **paging: int) -> list[Log] | int:
    logs: list[Log] = []
    try:
        async for page in log_pages(criteria, server.fetch, server.resolve, **paging):
            logs += page.logs
    except BlockLimitError as err:
        block = err.block
        assert isinstance(block, int)
        return block
    except NodeError as err:  # a single block timing out: nothing narrower to try
        code = err.code
        assert (server.wording, code) == ("timeout", -32002)
        assert server.calls[-1][0] == server.calls[-1][1]
        return server.calls[-1][0]
    return logs


def call_bound(blocks: int) -> int:
    """Calls a walk may take: per block at most one success and log2 refusals."""
    return blocks * (math.ceil(math.log2(blocks + 1)) + 2) + 2


@settings(max_examples=300, deadline=None)
@given(servers(), st.data())
async def test_get_logs_splitting_matches_the_reference(
    server: FakeServer, data: st.DataObject
) -> None:
    head = len(server.counts) - 1
    first = data.draw(st.integers(0, head))
    last = data.draw(st.integers(first, head) | st.just("latest"))
    end = head if last == "latest" else last
    assert isinstance(end, int)
    result = await collect(server, Filter.of(from_block=first, to_block=last))
    assert result == reference(server, first, end)
    assert len(server.calls) <= call_bound(end - first + 1)
    covered = [c for c in server.calls if c[0] <= c[1]]
    assert all(first <= a <= b <= end for a, b in covered)


@settings(max_examples=200, deadline=None)
@given(servers(), st.integers(1, 64), st.integers(1, 50))
async def test_iter_logs_pages_match_the_reference(
    server: FakeServer, page_blocks: int, page_logs: int
) -> None:
    head = len(server.counts) - 1
    result = await collect(
        server, Filter.of(from_block=0), page_blocks=page_blocks, page_logs=page_logs
    )
    assert result == reference(server, 0, head)
    assert len(server.calls) <= call_bound(head + 1)


async def test_stream_asks_for_a_page_only_once_the_last_is_consumed() -> None:
    server = FakeServer([5] * 100, max_results=12, max_range=None, wording="contract")
    consumed = 0
    pages: list[tuple[int, int]] = []  # (logs consumed when asked, logs it returned)

    async def fetch(criteria: Filter) -> list[Log]:
        logs = await server.fetch(criteria)
        pages.append((consumed, len(logs)))
        return logs

    stream = LogStream(
        log_pages(Filter.of(from_block=0, to_block=99), fetch, server.resolve, page_blocks=8)
    )
    async for _ in stream:
        consumed += 1
        assert stream.held < 12  # the rest of one page, at most
    assert consumed == 500
    assert stream.largest_page <= 12
    delivered_before = 0
    for asked_at, size in pages:
        assert asked_at == delivered_before  # every earlier page fully consumed, none ahead
        delivered_before += size


def test_pager_refuses_nothing_narrower_than_one_block() -> None:
    pager = RangePager(7, 7)
    assert not pager.too_large()
    pager = RangePager(0, 9)
    assert pager.too_large(suggested_to=9)  # not a narrowing: halve instead
    assert pager.page() == (0, 4)
    assert pager.too_large(suggested_to=0)
    assert pager.page() == (0, 0)
    assert not pager.too_large()
    with pytest.raises(ValueError, match="bad block range"):
        RangePager(5, 2)

"""Range splitting against a real HTTP front over anvil that enforces a results or block-range
limit — answering with RPC-CONTRACT.md's error shape, or only with a message as some
providers do: ``get_logs`` over the whole chain equals anvil's own answer, ``iter_logs``
holds one page at a time, and a single block over the limit is a clear error."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from rpc.client import AsyncClient, BlockLimitError, ClientError
from tests.anvil import Anvil
from tests.emitter import Emitter
from tests.rpc.client.support import LimitFront, fill_chain
from tests.rpc.client.test_anvil import reference

COUNTS = [random.Random(7).choice([0, 0, 1, 2, 3, 5, 8, 12]) for _ in range(120)]
"""Logs per block of the test chain (after the emitter's deployment block)."""


def chain(anvil: Anvil, emitter: Emitter, counts: list[int] = COUNTS) -> list[Any]:
    fill_chain(anvil, emitter, counts)
    raw: list[Any] = anvil.rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest"})
    assert len(raw) == sum(counts)
    return raw


@pytest.mark.parametrize(
    ("limits", "style"),
    [
        ({"max_results": 25}, "contract"),
        ({"max_results": 25}, "message"),
        ({"max_range": 16}, "contract"),
        ({"max_range": 16}, "message"),
        ({"max_results": 30, "max_range": 40}, "contract"),
    ],
)
async def test_get_logs_splits_to_anvils_answer(
    anvil: Anvil, limits: dict[str, int], style: str
) -> None:
    emitter = Emitter(anvil)
    expected = reference(chain(anvil, emitter))
    front = LimitFront(
        anvil, style=style, max_results=limits.get("max_results"), max_range=limits.get("max_range")
    )
    with front:
        async with AsyncClient(front.url) as client:
            got = await client.get_logs(from_block=0, to_block="latest")
            assert got == expected
            # The topics filter goes through the same splitting.
            some = await client.get_logs(from_block="earliest", topics=[expected[3].topics[0]])
            assert some == [log for log in expected if log.topics[:1] == expected[3].topics[:1]]
    refused = [c for c in front.calls if c.answered is None]
    answered = [c for c in front.calls if c.answered is not None]
    assert refused, "the front never refused: the test did not exercise splitting"
    assert all(c.answered <= limits.get("max_results", 10**9) for c in answered)  # type: ignore[operator]
    assert all(c.last - c.first < limits.get("max_range", 10**9) for c in answered)
    if "max_results" not in limits:
        # The block-range limit is learnt (from data.max or the message) and never crossed
        # again: the first query of each of the two get_logs is the only one refused.
        assert len(refused) == 2
    else:
        # Pages then aim at half the stated result limit: refusals are rare, not one per page.
        assert len(refused) <= len(answered) // 2 + 2


async def test_tags_on_a_server_without_get_block_by_number(anvil: Anvil) -> None:
    """logfilter serve answers -32601 for eth_getBlockByNumber (without --proxy): the start
    of a suggested range, eth_blockNumber and "earliest" = 0 resolve what splitting needs."""
    emitter = Emitter(anvil)
    expected = reference(chain(anvil, emitter))
    for style in ("contract", "message"):
        with LimitFront(anvil, max_results=25, style=style, block_by_number=False) as front:
            async with AsyncClient(front.url) as client:
                assert await client.get_logs(from_block="earliest", to_block="latest") == expected
                with pytest.raises(ClientError, match=r"tag 'safe'.*give a block number"):
                    await client.get_logs(from_block=0, to_block="safe")


async def test_single_block_over_the_limit(anvil: Anvil) -> None:
    emitter = Emitter(anvil)
    chain(anvil, emitter, [2, 3, 40, 1])  # block 4 alone holds 40 logs
    for style in ("contract", "message"):
        with LimitFront(anvil, max_results=25, style=style) as front:
            async with AsyncClient(front.url) as client:
                with pytest.raises(BlockLimitError, match="block 4 alone is over") as info:
                    await client.get_logs(from_block=0)
                assert info.value.block == 4
                # Blocks before it are fine.
                assert len(await client.get_logs(from_block=0, to_block=3)) == 5
                block = await client.header(4)
                assert block is not None
                with pytest.raises(BlockLimitError, match="alone is over") as by_hash:
                    await client.get_logs(block_hash=block.hash)  # nothing to split
                assert by_hash.value.block == block.hash


async def test_iter_logs_holds_one_page(anvil: Anvil) -> None:
    emitter = Emitter(anvil)
    expected = reference(chain(anvil, emitter))
    with LimitFront(anvil, max_results=25) as front:
        async with AsyncClient(front.url) as client:
            got = []
            async with client.iter_logs(from_block=0, page_blocks=64, page_logs=20) as stream:
                async for log in stream:
                    got.append(log)
                    front.consumed = len(got)
                    assert stream.held < 25
                    await asyncio.sleep(0)
    assert got == expected
    assert stream.largest_page <= 25
    # Each page was asked for only once every log of the pages before it was consumed.
    delivered = 0
    for call in front.calls:
        assert call.consumed == delivered
        if call.answered is not None:
            delivered += call.answered
    assert delivered == len(expected)


async def test_iter_logs_adapts_pages_without_server_limits(anvil: Anvil) -> None:
    """Against a node without limits, pages still follow ``page_logs`` (uniform density)."""
    emitter = Emitter(anvil)
    fill_chain(anvil, emitter, [4] * 100)
    with LimitFront(anvil) as front:
        async with AsyncClient(front.url) as client:
            stream = client.iter_logs(from_block=2, page_blocks=50, page_logs=20)
            count = sum([1 async for _ in stream])
    assert count == 400
    sizes = [c.answered for c in front.calls]
    assert sizes[0] == 200  # the first page: 50 blocks of 4 logs
    assert all(size is not None and size <= 40 for size in sizes[1:])  # then about 20, x2 at most

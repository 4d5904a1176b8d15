"""The synchronous facade from plain threads (no event loop anywhere in the test): the same
answers as anvil's, shared by several threads at once, iterators and subscriptions, and a
clean close."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from rpc.client import Client, ClientError, Log
from tests.anvil import Anvil
from tests.emitter import Emitter
from tests.rpc.client.support import LimitFront, fill_chain
from tests.rpc.client.test_anvil import reference


def test_threads_share_one_client(anvil: Anvil) -> None:
    emitter = Emitter(anvil)
    fill_chain(anvil, emitter, [3, 0, 5, 1] * 10)
    expected = reference(anvil.rpc("eth_getLogs", {"fromBlock": "0x0"}))
    threads_before = threading.active_count()
    with LimitFront(anvil, max_results=7) as front, Client(front.url) as client:

        def work(i: int) -> tuple[int, list[Log], list[Log]]:
            return (
                client.block_number(),
                client.get_logs(from_block=0),
                list(client.iter_logs(from_block=i, page_blocks=3, page_logs=4)),
            )

        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(work, range(12)))
        assert client.chain_id() == 31337
    for i, (number, logs, streamed) in enumerate(results):
        assert number == anvil.block_number()
        assert logs == expected
        assert streamed == [log for log in expected if log.block_number >= i]
    # The client's loop thread is gone.
    assert threading.active_count() == threads_before
    with pytest.raises(ClientError, match="closed"):
        client.block_number()


def test_sync_filters_and_subscriptions(anvil: Anvil) -> None:
    emitter = Emitter(anvil)
    with Client(anvil.ws_url) as client:
        with client.subscribe("logs", {"address": emitter.address}) as sub:
            with client.new_filter(from_block=client.block_number(), address=emitter.address) as f:
                emitter.emit_log([b"\x07" * 32], b"a")
                emitter.emit_log([], b"b")
                got = [next(sub), next(sub)]
                assert [log.data for log in got] == [b"a", b"b"]
                assert f.changes() == got
                assert f.logs() == got
            assert client.uninstall_filter(f.id) is False
        with client.subscribe("newHeads") as heads, client.new_block_filter() as blocks:
            anvil.mine()
            head = next(heads)
            assert blocks.changes() == [head.hash]
        # A half-read iterator is closed cleanly.
        stream = client.iter_logs(from_block=0, page_blocks=1)
        assert next(stream).data == b"a"
        stream.close()  # type: ignore[attr-defined]


def test_close_with_an_open_subscription(anvil: Anvil) -> None:
    client = Client(anvil.ws_url)
    heads = client.subscribe("newHeads")
    heads.start()
    waiting: list[BaseException] = []

    def wait_for_a_head() -> None:
        try:
            next(heads)
        except BaseException as err:  # whatever the waiting thread gets
            waiting.append(err)

    reader = threading.Thread(target=wait_for_a_head, daemon=True)
    reader.start()
    time.sleep(0.2)  # the thread is blocked in next()
    client.close()
    reader.join(10)
    assert not reader.is_alive()
    assert len(waiting) == 1
    assert isinstance(waiting[0], ClientError)
    assert "closed while waiting" in str(waiting[0])
    client.close()  # idempotent
    with pytest.raises(StopIteration):  # the iterator ended with that error
        next(heads)
    with pytest.raises(ClientError, match="the client is closed"):
        client.block_number()

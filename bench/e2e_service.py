"""Asking the suite's queries of a JSON-RPC endpoint (``logfilter serve`` or anvil) and timing
the answers: one request per run on a fresh connection (bench/bench_rpc.py's ``timed_call``),
the answer parsed after the clock stops."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.bench_rpc import call_body, timed_call
from tests.rpc.serve import ServeProcess

LogKey = tuple[int, int]


@dataclass
class Measured:
    """One query over one range on one system."""

    chain: str
    fill: str
    blocks: int
    system: str
    query: str
    range: int
    seconds: list[float] = field(default_factory=list)
    """Wall time of each run."""
    logs: int = 0
    candidates: int | None = None
    matched: int | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def density(self) -> float | None:
        if self.candidates is None or self.matched is None or not self.candidates:
            return None
        return self.matched / self.candidates

    @property
    def per_candidate_us(self) -> float | None:
        """Microseconds of the whole answer per candidate block verified."""
        if not self.candidates or not self.seconds:
            return None
        return self.median / self.candidates * 1e6


def repeat_timed(run: Any, repeats: int, budget: float) -> tuple[list[float], Any]:
    """Run ``run()`` (returning (seconds, answer)) up to ``repeats`` times, stopping once
    ``budget`` seconds were spent; the times and the first answer."""
    times: list[float] = []
    first: Any = None
    spent = 0.0
    for i in range(repeats):
        seconds, answer = run()
        times.append(seconds)
        if i == 0:
            first = answer
        spent += seconds
        if spent > budget:
            break
    return times, first


def query_counters(server: ServeProcess) -> tuple[int, int]:
    """(candidate blocks, matched blocks) counted by the service so far."""
    q = server.call("logfilter_status")["queries"]
    return int(q["candidateBlocks"], 16), int(q["matchedBlocks"], 16)


def ask(
    port: int, filter_: dict[str, Any], repeats: int, budget: float
) -> tuple[list[float], list[dict[str, Any]]]:
    """Times of ``eth_getLogs(filter_)`` and the first answer's logs (an error raises)."""
    body = call_body("eth_getLogs", filter_)

    def run() -> tuple[float, bytes]:
        return timed_call(port, body)

    times, raw = repeat_timed(run, repeats, budget)
    answer = orjson.loads(raw)
    if "error" in answer:
        raise RuntimeError(f"eth_getLogs {filter_}: {answer['error']}")
    logs: list[dict[str, Any]] = answer["result"]
    return times, logs


def log_keys(logs: list[dict[str, Any]], offset: int = 0) -> list[LogKey]:
    """(block number - offset, log index) of each log, in answer order."""
    return [(int(x["blockNumber"], 16) - offset, int(x["logIndex"], 16)) for x in logs]


def log_contents(
    logs: list[dict[str, Any]], offset: int = 0
) -> list[tuple[int, int, bytes, tuple[bytes, ...], bytes]]:
    """(number - offset, log index, address, topics, data) of each log."""
    return [
        (
            int(x["blockNumber"], 16) - offset,
            int(x["logIndex"], 16),
            bytes.fromhex(x["address"][2:]),
            tuple(bytes.fromhex(t[2:]) for t in x["topics"]),
            bytes.fromhex(x["data"][2:]),
        )
        for x in logs
    ]


def wait_until(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)

"""The two matchers of one rule: ``LogCriteria.matches`` (one log) and ``RecordMatcher``
(a whole columnar record at once) against the brute-force reference."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from eth_typing import Address, Hash32
from hypothesis import given, settings
from hypothesis import strategies as st

from chainindex.errors import CorruptDataError
from chainindex.filters import LogCriteria, RecordMatcher
from chainindex.store.codec import LogsRecord, encode_logs
from tests.chainindex.filters.chain import ADDRESS_POOL, TOPIC_POOL, random_chain, reference_logs

BLOCKS = [b for b in random_chain(7, 200) if b.logs]

criteria = st.builds(
    LogCriteria,
    st.lists(st.sampled_from(ADDRESS_POOL), max_size=3).map(tuple),
    st.lists(st.lists(st.sampled_from(TOPIC_POOL), max_size=3).map(tuple), max_size=4).map(tuple),
)


@settings(max_examples=300)
@given(criteria, st.sampled_from(BLOCKS))
def test_record_matcher_selects_what_the_reference_keeps(c: LogCriteria, block: object) -> None:
    logs = block.logs  # type: ignore[attr-defined]
    record = LogsRecord.parse(encode_logs(logs))
    selected = RecordMatcher(c).select(record)
    expected = reference_logs(logs, c.addresses, c.topics, 0, 10**9)
    assert [logs[i] for i in selected.tolist()] == expected
    assert [log for log in logs if c.matches(log)] == expected


def test_wildcards_and_topic_counts() -> None:
    logs = [log for b in BLOCKS for log in b.logs or ()]
    by_count = {n: [log for log in logs if len(log.topics) >= n] for n in range(5)}
    for n in range(5):
        # n wildcard positions: every log with at least n topics, whatever they are.
        c = LogCriteria((), ((),) * n)
        assert [log for log in logs if c.matches(log)] == by_count[n]
        record_logs = [
            log
            for b in BLOCKS
            for log in (b.logs or ())
            if log.log_index
            in RecordMatcher(c).select(LogsRecord.parse(encode_logs(b.logs or ()))).tolist()
        ]
        assert record_logs == by_count[n]
    assert LogCriteria().is_wildcard
    assert LogCriteria((), ((), ())).is_wildcard
    assert not LogCriteria((ADDRESS_POOL[0],)).is_wildcard
    assert LogCriteria((ADDRESS_POOL[0],), ((), (TOPIC_POOL[1],))).groups == [
        [ADDRESS_POOL[0]],
        [],
        [TOPIC_POOL[1]],
    ]


ALL_LOGS = [log for b in BLOCKS for log in b.logs or ()]


@settings(max_examples=100)
@given(criteria, st.integers(33, len(ALL_LOGS)), st.randoms(use_true_random=False))
def test_large_records_take_the_numpy_path_with_the_same_answer(
    c: LogCriteria, size: int, rng: Any
) -> None:
    logs = rng.sample(ALL_LOGS, size)  # more logs than the plain-Python path takes
    record = LogsRecord.parse(encode_logs(logs))
    selected = RecordMatcher(c).select(record)
    assert [logs[i] for i in selected.tolist()] == reference_logs(
        logs, c.addresses, c.topics, 0, 10**9
    )


@settings(max_examples=200)
@given(criteria, st.integers(1, len(ALL_LOGS)), st.data())
def test_confirm_keeps_the_named_logs_that_match(
    c: LogCriteria, size: int, data: st.DataObject
) -> None:
    """The exact path's check: of the logs the index named (any subset, as a fingerprint
    shared by two values names logs that do not match), those the reference keeps."""
    rng = data.draw(st.randoms(use_true_random=False))
    logs = rng.sample(ALL_LOGS, size)
    named = sorted(data.draw(st.sets(st.integers(0, size - 1))))
    record = LogsRecord.parse(encode_logs(logs))
    kept = RecordMatcher(c).confirm(record, np.array(named, dtype=np.intp))
    expected = reference_logs([logs[i] for i in named], c.addresses, c.topics, 0, 10**9)
    assert [logs[i] for i in kept.tolist()] == expected


def test_confirm_refuses_a_log_past_the_record() -> None:
    record = LogsRecord.parse(encode_logs(ALL_LOGS[:5]))
    with pytest.raises(CorruptDataError, match="names log 5 of a block of 5"):
        RecordMatcher(LogCriteria()).confirm(record, np.array([1, 5], dtype=np.intp))


EXTRA_ADDRESSES = [Address(bytes([0xB0 + i]) * 20) for i in range(8)]
"""Addresses no log of the chains has: filters with more values than the comparison loop
takes (numpy's ``isin`` then)."""

many_values = st.builds(
    LogCriteria,
    st.lists(st.sampled_from(ADDRESS_POOL + EXTRA_ADDRESSES), min_size=9, unique=True).map(tuple),
    st.lists(st.lists(st.sampled_from(TOPIC_POOL), min_size=9).map(tuple), max_size=2).map(tuple),
)


@settings(max_examples=100)
@given(many_values, st.integers(1, len(ALL_LOGS)), st.randoms(use_true_random=False))
def test_many_values_select_and_confirm_like_the_reference(
    c: LogCriteria, size: int, rng: Any
) -> None:
    logs = rng.sample(ALL_LOGS, size)
    record = LogsRecord.parse(encode_logs(logs))
    expected = reference_logs(logs, c.addresses, c.topics, 0, 10**9)
    matcher = RecordMatcher(c)
    assert [logs[i] for i in matcher.select(record).tolist()] == expected
    every = np.arange(size, dtype=np.intp)
    assert [logs[i] for i in matcher.confirm(record, every).tolist()] == expected


def test_values_differing_in_trailing_zero_bytes_are_told_apart() -> None:
    """numpy's fixed-width strings drop trailing zero bytes when compared; every value of a
    width has the same width, so that never makes two values equal."""
    one = Address(b"\x01" * 19 + b"\x00")
    two = Address(b"\x01" * 18 + b"\x00\x00")
    zero = Hash32(bytes(32))
    base = ALL_LOGS[0]
    logs = [
        dataclasses.replace(base, address=address, topics=(topic,), log_index=i)
        for i, (address, topic) in enumerate(
            [(one, zero), (two, zero), (one, Hash32(b"\x00" * 31 + b"\x01"))] * 30
        )
    ]
    record = LogsRecord.parse(encode_logs(logs))
    for c in (LogCriteria((one,)), LogCriteria((), ((zero,),)), LogCriteria((two,), ((zero,),))):
        expected = [i for i, log in enumerate(logs) if c.matches(log)]
        assert 0 < len(expected) < len(logs)
        assert RecordMatcher(c).select(record).tolist() == expected
        named = np.arange(len(logs), dtype=np.intp)
        assert RecordMatcher(c).confirm(record, named).tolist() == expected

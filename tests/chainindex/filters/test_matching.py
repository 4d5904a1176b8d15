"""The two matchers of one rule: ``LogCriteria.matches`` (one log) and ``RecordMatcher``
(a whole columnar record at once) against the brute-force reference."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

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

"""A segment task's sync settings: a plain sync's, over a final range, within its share of
the upstream's requests."""

from __future__ import annotations

from chainindex.segments.build import SegmentTask, segment_sync_config
from chainindex.source import SourceOptions


def _task(share: int) -> SegmentTask:
    return SegmentTask(
        upstream="chain.jsonl",
        directory="segments/4096-8191",
        first=4096,
        last=8191,
        section_size=512,
        headers_only=True,
        options=SourceOptions(max_concurrency=share),
    )


def test_a_segment_syncs_its_final_range_without_following() -> None:
    config = segment_sync_config(_task(8))
    assert (config.from_block, config.until) == (4096, 8191)
    assert config.confirmations == 0
    assert not config.follow
    assert config.headers_only
    assert config.section_size == 512


def test_fetches_ahead_stay_within_the_share_and_a_plain_syncs_four() -> None:
    # 4 is SyncConfig's default, what `logfilter sync` uses; a share of --max-requests
    # above it (16 requests over 2 workers: 8) no longer means 8 fetches ahead.
    assert [segment_sync_config(_task(share)).fetch_ahead for share in (1, 2, 4, 8, 16)] == [
        1, 2, 4, 4, 4,
    ]  # fmt: skip

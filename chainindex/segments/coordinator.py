"""The backfill coordinator: plan segments, run them on workers, check links, publish.

The reduce side of ``logfilter backfill`` (the map side is :mod:`~chainindex.segments.build`):

1. :func:`plan_segments` splits ``first..last`` into segments aligned to ``segment_blocks``
   (whole sections; the last one may be shorter but still ends on a section boundary);
2. a segment whose directory is sealed already is kept (a resumed backfill); every other
   one is submitted, at most ``parallel`` at a time, each with its share of
   ``max_requests`` as its upstream concurrency (so the upstream never sees more than
   ``max_requests`` requests in flight from the whole backfill);
3. a task that fails (an error, a worker killed) has its directory deleted and is submitted
   again from scratch, up to ``retries`` times: nothing of a failed attempt stays;
4. once all are sealed, their hash links are checked (:func:`~.manifest.check_links`) and
   ``DATADIR/manifest.json`` written atomically: readers see the old manifest or the new one.

``kill -9`` of the command loses only the segments being built; a rerun finds the sealed
ones and builds the rest.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from chainindex.errors import SegmentError
from chainindex.segments.build import SegmentTask, build_segment
from chainindex.segments.executors import TaskRunner
from chainindex.segments.manifest import (
    MANIFEST_NAME,
    Manifest,
    SealedSegment,
    check_links,
    read_sealed,
    segment_dir,
    segments_root,
    write_json,
)
from chainindex.source import SourceOptions
from chainindex.sync.checkpoint import Checkpoint

__all__ = ["BackfillObserver", "BackfillPlan", "Span", "plan_segments", "run_backfill"]

log = logging.getLogger("chainindex.segments")

Span = tuple[int, int]
"""An inclusive block range ``(first, last)``: one segment."""


def plan_segments(first: int, last: int, section_size: int, segment_blocks: int) -> list[Span]:
    """Segments of ``first..last``: boundaries at multiples of ``segment_blocks``, the range
    cut down to whole sections (``first`` must start one). Empty when no section fits."""
    if segment_blocks % section_size or segment_blocks <= 0:
        raise SegmentError(
            f"segment size {segment_blocks} is not a multiple of the section size {section_size}"
        )
    if first % section_size:
        raise SegmentError(f"--from-block {first} does not start a section of {section_size}")
    end = (last + 1) // section_size * section_size - 1
    spans = []
    start = first
    while start <= end:
        stop = min((start // segment_blocks + 1) * segment_blocks - 1, end)
        spans.append((start, stop))
        start = stop + 1
    return spans


@dataclass(frozen=True, slots=True)
class BackfillPlan:
    """What a backfill builds and how."""

    datadir: str
    """The data directory (segments go under ``datadir/segments``)."""
    upstream: str
    """Node URL, archive or synthetic spec."""
    first: int
    """First block (a section boundary)."""
    last: int
    """Last block asked for (cut down to whole sections)."""
    section_size: int = 4096
    """Blocks per section."""
    segment_blocks: int = 16 * 4096
    """Blocks per segment (a multiple of ``section_size``)."""
    headers_only: bool = False
    """``--no-logs``."""
    chain_id: int | None = None
    """``--chain-id``."""
    options: SourceOptions = field(default_factory=SourceOptions)
    """How the upstream is talked to."""
    blocks_per_fetch: int = 32
    """Most blocks per upstream request."""
    max_requests: int = 16
    """Upstream requests in flight across all workers."""
    retries: int = 3
    """Attempts of a failing segment after its first."""
    checkpoint: Checkpoint | None = None
    """``--checkpoint``."""

    def spans(self) -> list[Span]:
        """The segments planned."""
        return plan_segments(self.first, self.last, self.section_size, self.segment_blocks)

    def task(self, span: Span, concurrency: int) -> SegmentTask:
        """The task of one segment."""
        return SegmentTask(
            upstream=self.upstream,
            directory=str(segment_dir(self.datadir, *span)),
            first=span[0],
            last=span[1],
            section_size=self.section_size,
            headers_only=self.headers_only,
            chain_id=self.chain_id,
            options=replace(self.options, max_concurrency=concurrency),
            blocks_per_fetch=self.blocks_per_fetch,
            checkpoint=self.checkpoint,
        )


class BackfillObserver(Protocol):
    """Told how a backfill goes (progress for people)."""

    def started(self, total: int, sealed: int, where: str) -> None:
        """``total`` segments planned, ``sealed`` of them found built already."""

    def sealed(self, segment: SealedSegment, done: int, total: int) -> None:
        """One more segment sealed."""

    def failed(self, span: Span, attempt: int, error: BaseException) -> None:
        """A segment's attempt failed; it is built again from scratch."""


def _remove(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def _clear_partials(plan: BackfillPlan, spans: list[Span]) -> dict[Span, SealedSegment]:
    """Seals found for ``spans``; every unsealed segment directory is deleted."""
    found: dict[Span, SealedSegment] = {}
    root = segments_root(plan.datadir)
    wanted = {segment_dir(plan.datadir, *span): span for span in spans}
    if root.is_dir():
        for directory in root.iterdir():
            seal = read_sealed(directory) if directory.is_dir() else None
            if seal is None:
                _remove(directory)
            elif directory in wanted and (seal.first, seal.last) == wanted[directory]:
                found[wanted[directory]] = seal
    return found


def run_backfill(
    plan: BackfillPlan,
    runner: TaskRunner,
    observer: BackfillObserver | None = None,
    *,
    build: Callable[[SegmentTask], SealedSegment] = build_segment,
) -> Manifest:
    """Build every segment of ``plan`` on ``runner`` and publish the manifest (see the
    module docstring); ``build`` is the task function (a module-level function, picklable)."""
    spans = plan.spans()
    if not spans:
        raise SegmentError(
            f"no whole section of {plan.section_size} blocks in {plan.first}..{plan.last}"
        )
    seals = _clear_partials(plan, spans)
    parallel = runner.parallel
    concurrency = max(1, plan.max_requests // parallel)
    if observer is not None:
        observer.started(len(spans), len(seals), runner.where)
    queue = [span for span in spans if span not in seals]
    attempts = dict.fromkeys(queue, 0)
    running: dict[Future[SealedSegment], Span] = {}
    while queue or running:
        while queue and len(running) < parallel:
            span = queue.pop(0)
            running[runner.executor.submit(build, plan.task(span, concurrency))] = span
        done, _ = wait(list(running), return_when=FIRST_COMPLETED)
        broken = False
        for future in done:
            span = running.pop(future)
            try:
                seal = future.result()
            except Exception as err:
                broken = broken or isinstance(err, BrokenExecutor)
                attempts[span] += 1
                if attempts[span] > plan.retries:
                    raise SegmentError(
                        f"segment {span[0]}-{span[1]} failed {attempts[span]} times: {err}"
                    ) from err
                if observer is not None:
                    observer.failed(span, attempts[span], err)
                _remove(segment_dir(plan.datadir, *span))
                queue.insert(0, span)
                continue
            if (seal.first, seal.last) != span:
                raise SegmentError(f"segment {span[0]}-{span[1]} came back as {seal.name}")
            seals[span] = seal
            if observer is not None:
                observer.sealed(seal, len(seals), len(spans))
        if broken:  # a dead pool worker breaks the pool: every running task is lost
            for future, span in running.items():
                future.cancel()
                _remove(segment_dir(plan.datadir, *span))
                queue.insert(0, span)
            running.clear()
            runner.renew()
    ordered = [seals[span] for span in spans]
    check_links(ordered)
    ids = {s.chain_id for s in ordered}
    if len(ids) > 1:
        raise SegmentError(f"the segments name different chain ids {sorted(map(str, ids))}")
    manifest = Manifest(tuple(ordered))
    write_json(Path(plan.datadir) / MANIFEST_NAME, manifest.to_json())
    return manifest

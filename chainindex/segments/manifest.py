"""What a sealed history segment is, and the manifest that lists a data directory's segments.

A segment is a data directory of its own under ``DATADIR/segments/<first>-<last>/`` holding
blocks ``first..last`` (aligned to whole sections) and every section of them. Once built it
is *sealed*: compacted and described by ``SEALED.json`` (:class:`SealedSegment`), written
atomically last, so a directory without it is a partial build to delete. The coordinator
publishes ``DATADIR/manifest.json`` (:class:`Manifest`) once every segment is sealed and
their hash links checked. The idea follows Erigon's frozen "snapshot" files and
go-ethereum's freezer (immutable history beside a mutable head); what differs: a segment is
an ordinary LevelDB data directory, readable by the same query path, not a flat file format.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from chainindex.errors import SegmentError
from chainindex.store.atomicfile import atomic_write

__all__ = [
    "MANIFEST_NAME",
    "MANIFEST_VERSION",
    "SEALED_NAME",
    "Manifest",
    "SealedSegment",
    "check_links",
    "read_manifest",
    "read_sealed",
    "segment_dir",
    "segments_root",
    "write_json",
]

MANIFEST_NAME = "manifest.json"
"""The manifest's file name in the data directory."""
SEALED_NAME = "SEALED.json"
"""The seal's file name in a segment's directory."""
MANIFEST_VERSION = 1
"""Version of the manifest and seal formats."""


def segments_root(datadir: str | Path) -> Path:
    """Where a data directory's segments live."""
    return Path(datadir) / "segments"


def segment_dir(datadir: str | Path, first: int, last: int) -> Path:
    """The directory of segment ``first..last``."""
    return segments_root(datadir) / f"{first}-{last}"


@dataclass(frozen=True, slots=True)
class SealedSegment:
    """One sealed segment, as ``SEALED.json`` and the manifest describe it."""

    first: int
    """First block."""
    last: int
    """Last block."""
    parent_hash: str
    """Parent hash of block ``first`` (0x hex): the link to the segment below."""
    last_hash: str
    """Hash of block ``last`` (0x hex): the link to the segment (or head store) above."""
    schema: int
    """Store schema version the segment was written with."""
    section_size: int
    """Blocks per bloom section."""
    headers_only: bool
    """Built with ``--no-logs``."""
    chain_id: int | None
    """The chain's id, when the upstream names one."""
    entries: int
    """Key-value records in the segment's store."""
    bytes: int
    """Bytes on disk after compaction."""
    content_hash: str
    """sha256 of every record in key order (each key and value length-prefixed): the same
    for the same blocks whatever LevelDB's file layout."""

    @property
    def name(self) -> str:
        """``first-last``, the segment's directory name."""
        return f"{self.first}-{self.last}"

    def to_json(self) -> dict[str, Any]:
        """The JSON object of the seal and of a manifest entry."""
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Any, where: str) -> SealedSegment:
        """Parsed from :meth:`to_json`'s shape; :class:`SegmentError` naming ``where``."""
        try:
            fields = {name: raw[name] for name in cls.__dataclass_fields__}
            segment = cls(**fields)
        except (KeyError, TypeError) as err:
            raise SegmentError(f"{where}: not a segment description ({err})") from None
        if not (isinstance(segment.first, int) and isinstance(segment.last, int)):
            raise SegmentError(f"{where}: first and last must be block numbers")
        return segment


@dataclass(frozen=True, slots=True)
class Manifest:
    """``DATADIR/manifest.json``: the sealed segments, in block order, hash-linked."""

    segments: tuple[SealedSegment, ...]
    """The segments, ascending and contiguous."""

    @property
    def first(self) -> int:
        """First block of the history."""
        return self.segments[0].first

    @property
    def last(self) -> int:
        """Last sealed block: the head store continues from the block after it."""
        return self.segments[-1].last

    def to_json(self) -> dict[str, Any]:
        """The manifest file's JSON object."""
        return {"version": MANIFEST_VERSION, "segments": [s.to_json() for s in self.segments]}


def check_links(segments: Sequence[SealedSegment]) -> None:
    """:class:`SegmentError` unless ``segments`` are contiguous, of one section size and
    mode, and each one's first block names the previous one's last as its parent."""
    for below, above in itertools.pairwise(segments):
        if above.first != below.last + 1:
            raise SegmentError(f"segments {below.name} and {above.name} are not contiguous")
        if (above.section_size, above.headers_only) != (below.section_size, below.headers_only):
            raise SegmentError(
                f"segments {below.name} and {above.name} differ in section size or mode"
            )
        if above.parent_hash != below.last_hash:
            raise SegmentError(
                f"segment {above.name} does not link to segment {below.name}: block "
                f"{above.first}'s parent is {above.parent_hash}, block {below.last} is "
                f"{below.last_hash} (the upstream changed chains during the backfill?)"
            )


def write_json(path: Path, value: dict[str, Any]) -> None:
    """Write ``value`` as JSON atomically (complete or not at all)."""
    with atomic_write(path) as f:
        f.write(json.dumps(value, indent=1).encode() + b"\n")


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except json.JSONDecodeError as err:
        raise SegmentError(f"{path} is not valid JSON: {err}") from None


def read_sealed(directory: Path) -> SealedSegment | None:
    """The seal of a segment directory, None when it has none (a partial build)."""
    path = directory / SEALED_NAME
    if not path.exists():
        return None
    return SealedSegment.from_json(_load(path), str(path))


def read_manifest(datadir: str | Path) -> Manifest | None:
    """The data directory's manifest, None when there is none (no backfill was published)."""
    path = Path(datadir) / MANIFEST_NAME
    if not path.exists():
        return None
    raw = _load(path)
    if not isinstance(raw, dict) or raw.get("version") != MANIFEST_VERSION:
        raise SegmentError(f"{path}: not a manifest of version {MANIFEST_VERSION}")
    entries = raw.get("segments")
    if not isinstance(entries, list) or not entries:
        raise SegmentError(f"{path}: no segments listed")
    segments = tuple(SealedSegment.from_json(e, str(path)) for e in entries)
    check_links(segments)
    return Manifest(segments)

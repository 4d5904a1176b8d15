"""Reading a run of numbered records past damaged LevelDB blocks.

A LevelDB iterator stops at the first block that fails its checksum. :func:`scan_numbered`
records the blocks that cannot be read as one problem and carries on from the first height
it can seek to again (found by doubling, then bisection: seeking to a key inside a damaged
block fails, one in the next block succeeds), so that one damaged block is one problem and
the rest of the directory is still checked. LevelDB's own ``RepairDB`` does the same over
the table files, dropping what it cannot read; this reports it instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from chainindex.check.problems import Problems
from chainindex.errors import CorruptDataError
from chainindex.store.kv import KeyValueReader

__all__ = ["KeyRange", "scan_numbered"]

KeyRange = Callable[[int, int], tuple[bytes, bytes]]
"""``(first, last)`` heights → the ``[start, stop)`` keys of their records."""

_UNREADABLE = "unreadable: {}"


def _readable_from(reader: KeyValueReader, key_range: KeyRange, number: int, last: int) -> bool:
    """Whether a scan of heights ``number..last`` can start (its first record reads)."""
    try:
        next(iter(reader.iterate(*key_range(number, last))), None)
    except CorruptDataError:
        return False
    return True


def _resume_point(reader: KeyValueReader, key_range: KeyRange, bad: int, last: int) -> int:
    """The smallest height above ``bad`` a scan can start from again (``last + 1``: none)."""
    step = 1
    low = bad  # a scan from here fails
    high = bad + 1
    while high <= last and not _readable_from(reader, key_range, high, last):
        low = high
        step *= 2
        high = bad + step
    high = min(high, last + 1)
    while high - low > 1:
        mid = (low + high) // 2
        if _readable_from(reader, key_range, mid, last):
            high = mid
        else:
            low = mid
    return high


def scan_numbered(
    reader: KeyValueReader,
    key_range: KeyRange,
    number_of: Callable[[bytes], int],
    first: int,
    last: int,
    component: str,
    problems: Problems,
) -> Iterator[tuple[int, bytes, bytes]]:
    """``(height, key, value)`` of the records of heights ``first..last``, ascending; heights
    in LevelDB blocks that cannot be read are added to ``problems`` (as ``component``) and
    skipped."""
    position = first
    while position <= last:
        try:
            for key, value in reader.iterate(*key_range(position, last)):
                number = number_of(key)
                yield number, key, value
                position = number + 1
            return
        except CorruptDataError as err:
            resume = _resume_point(reader, key_range, position, last)
            problems.add(component, position, resume - 1, _UNREADABLE.format(err), storage=True)
            position = resume

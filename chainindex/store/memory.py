"""An in-memory :class:`~chainindex.store.kv.KeyValueStore`, for unit tests of logic only.

The service runs on LevelDB (:mod:`chainindex.store.leveldb`); this exists so that pure
logic can be tested without a disk. Same semantics: sorted keys, atomic batches, snapshots.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["MemoryStore"]


class _Reader:
    """Reads over a sorted key list and a dict (shared by the store and its snapshots)."""

    _keys: list[bytes]
    _data: dict[bytes, bytes]

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def iterate(
        self, start: bytes, stop: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        lo = bisect.bisect_left(self._keys, start)
        hi = len(self._keys) if stop is None else bisect.bisect_left(self._keys, stop)
        keys = self._keys[lo:hi]
        if reverse:
            keys.reverse()
        data = self._data
        for key in keys:
            yield key, data[key]


class _Snapshot(_Reader):
    """A frozen view: the sorted keys and the values as they were when it was taken."""

    def __init__(self, keys: list[bytes], data: dict[bytes, bytes]) -> None:
        self._keys = keys
        self._data = data


class _Batch:
    """Pending writes of one batch, last write per key wins (None: a delete)."""

    def __init__(self) -> None:
        self.ops: dict[bytes, bytes | None] = {}

    def put(self, key: bytes, value: bytes) -> None:
        self.ops[bytes(key)] = bytes(value)

    def delete(self, key: bytes) -> None:
        self.ops[bytes(key)] = None


class MemoryStore(_Reader):
    """A dict with sorted keys; batches apply atomically at the end of their ``with``."""

    def __init__(self) -> None:
        self._keys = []
        self._data = {}
        self._closed = False

    @contextmanager
    def batch(self) -> Iterator[_Batch]:
        self._check_open()
        batch = _Batch()
        yield batch
        for key, value in batch.ops.items():
            if value is None:
                if self._data.pop(key, None) is not None:
                    del self._keys[bisect.bisect_left(self._keys, key)]
            else:
                if key not in self._data:
                    bisect.insort(self._keys, key)
                self._data[key] = value

    @contextmanager
    def snapshot(self) -> Iterator[_Snapshot]:
        self._check_open()
        yield _Snapshot(list(self._keys), dict(self._data))

    def close(self) -> None:
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("store is closed")

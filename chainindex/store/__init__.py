"""The store: a key-value protocol, its LevelDB and in-memory implementations, the schema
(every key layout) and the bloom section store built on them.

* :mod:`~chainindex.store.kv`: the key-value protocol; :mod:`~chainindex.store.leveldb` and
  :mod:`~chainindex.store.memory` implement it;
* :mod:`~chainindex.store.schema`: every key layout and the schema version;
* :mod:`~chainindex.store.codec`: logs records (:mod:`~chainindex.store.logsrecord`: one
  viewed as numpy columns); :mod:`~chainindex.store.headerrecord`:
  header records; :mod:`~chainindex.store.rows`: grouped bloom-bit rows;
  :mod:`~chainindex.store.sections`: the bloom sections (:class:`SectionStore`);
* :mod:`~chainindex.store.reader`: the read side (:class:`~chainindex.store.reader.ChainReader`);
  :mod:`~chainindex.store.writer`: the write side, the indexer's
  (:class:`~chainindex.store.writer.ChainWriter`);
* :mod:`~chainindex.store.exact`: the exact log index (address and topic with its position →
  the logs that carry it), :mod:`~chainindex.store.migrate`: migrations of older directories;
* :mod:`~chainindex.store.atomicfile`: files that appear complete or not at all.

:func:`open_datadir` opens a data directory's LevelDB and checks its schema.
"""

from __future__ import annotations

from pathlib import Path

from chainindex.errors import StoreError
from chainindex.store.damage import METADATA, damage
from chainindex.store.kv import KeyValueReader, KeyValueStore, WriteBatch
from chainindex.store.leveldb import LevelDBStore
from chainindex.store.memory import MemoryStore
from chainindex.store.migrate import MIGRATIONS
from chainindex.store.schema import SCHEMA_KEY, check_schema
from chainindex.store.sections import SectionStore

__all__ = [
    "KeyValueReader",
    "KeyValueStore",
    "LevelDBStore",
    "MemoryStore",
    "SectionStore",
    "WriteBatch",
    "open_datadir",
]


def open_datadir(path: str | Path) -> LevelDBStore:
    """Open (creating if needed) the LevelDB of a data directory and check its schema,
    migrating an older one (:mod:`~chainindex.store.migrate`)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise StoreError(f"data directory {path} is not a directory")
    store = LevelDBStore(path)
    try:
        with damage(METADATA):  # a damaged LevelDB block under the metadata, named as such
            store.get(SCHEMA_KEY)
        check_schema(store, str(path), MIGRATIONS)
    except BaseException:
        store.close()
        raise
    return store

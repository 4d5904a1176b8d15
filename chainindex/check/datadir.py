"""``check_datadir``: every check of a data directory, in one pass over one snapshot.

The directory's LevelDB is opened with ``paranoid_checks`` and every read verifies block
checksums (:class:`~chainindex.store.leveldb.LevelDBStore`); nothing is written (the schema
is read, not migrated; a directory of another version is a problem to open with ``sync``
first). Order: the metadata, the blocks (:mod:`~chainindex.check.chain`), the sections and
the exact index (:mod:`~chainindex.check.derived`), the text index
(:mod:`~chainindex.check.text`) and its document count against the logs read.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chainindex.check.chain import check_chain
from chainindex.check.derived import check_exact_index, check_sections
from chainindex.check.problems import CheckReport, Problems
from chainindex.check.text import TextCheck, check_text_index
from chainindex.errors import ConfigError, CorruptDataError
from chainindex.store import schema
from chainindex.store.damage import METADATA, TEXT_INDEX
from chainindex.store.kv import KeyValueReader, KeyValueStore
from chainindex.store.leveldb import LevelDBStore
from chainindex.store.reader import ChainState, ChainView
from chainindex.store.sections import SectionStore

__all__ = ["check_datadir", "check_store", "open_for_check"]

I64 = npt.NDArray[np.int64]


def open_for_check(datadir: str | Path) -> LevelDBStore:
    """The directory's LevelDB, opened with paranoid checks; ConfigError when there is none."""
    path = Path(datadir)
    if not (path / "CURRENT").is_file():
        raise ConfigError(f"no data directory at {path}")
    return LevelDBStore(path, create=False, paranoid=True)


def _state(
    store: KeyValueStore, reader: KeyValueReader, problems: Problems
) -> tuple[ChainView, SectionStore, ChainState] | None:
    """The directory's state from ``reader`` (None, with a problem, when it cannot be read)."""
    try:
        raw = reader.get(schema.SCHEMA_KEY)
        if raw is None or len(raw) != 4:
            problems.add(METADATA, None, None, "no schema version record")
            return None
        version = struct.unpack(">I", raw)[0]
        if version != schema.SCHEMA_VERSION:
            problems.add(
                METADATA, None, None,
                f"schema version {version}: open it with `logfilter sync` first",
            )  # fmt: skip
            return None
        size = reader.get(schema.meta_key(schema.META_SECTION_SIZE))
        if size is None:
            return None  # never synced
        sections = SectionStore(store, schema.decode_u64(size))
        view = ChainView(reader, sections)
        return view, sections, view.state()
    except CorruptDataError as err:
        problems.add(METADATA, None, None, f"unreadable: {err}", storage=True)
        return None


def check_store(store: KeyValueStore, datadir: str | Path) -> CheckReport:
    """Check the data directory whose LevelDB ``store`` is (see the module docstring)."""
    problems = Problems()
    report = CheckReport()
    with store.snapshot() as reader:
        found = _state(store, reader, problems)
        view, sections, state = found if found is not None else (None, None, None)
        if view is not None and sections is not None and state is not None:
            _check_synced(view, sections, state, datadir, problems, report)
    report.problems = problems.items
    return report


def _check_synced(
    view: ChainView,
    sections: SectionStore,
    state: ChainState,
    datadir: str | Path,
    problems: Problems,
    report: CheckReport,
) -> None:
    """The checks of a directory with synced blocks."""
    if state.head is None or state.tail is None:
        return
    reader = view.reader
    report.tail, report.head = state.tail, state.head.number
    scan = check_chain(reader, state.tail, state.head.number, state.head.hash,
                       state.headers_only, problems)  # fmt: skip
    report.logs = scan.logs
    report.sections = check_sections(view, sections, state, problems, state.first_section)
    exact_first = _exact_first(reader)
    if exact_first is not None:
        report.exact_sections = check_exact_index(
            view, state, exact_first, problems, state.first_section
        )
    text = check_text_index(datadir, state.tail, problems)
    if text is not None:
        report.text_docs = text.docs
        _text_count(view, state, scan.log_counts, text, problems)


def _exact_first(reader: KeyValueReader) -> int | None:
    raw = reader.get(schema.meta_key(schema.META_EXACT_FIRST))
    return None if raw is None else schema.decode_u64(raw)


def _text_count(
    view: ChainView, state: ChainState, counts: I64, text: TextCheck, problems: Problems
) -> None:
    """The text index holds one document per stored log up to its committed block."""
    if not text.sound or text.block is None or state.head is None or state.tail is None:
        return
    if text.block > state.head.number:
        problems.add(TEXT_INDEX, state.tail, text.block, "committed above the synced head")
        return
    if text.block_hash is not None and view.canonical_hash(text.block) != text.block_hash:
        return  # a reorg while it was down: the feed rolls it back at start
    upto = counts[: text.block - state.tail + 1]
    if (upto < 0).any():
        return  # logs unreadable: reported with the chain
    expected = int(upto.sum())
    if expected != text.docs:
        problems.add(
            TEXT_INDEX, state.tail, text.block,
            f"holds {text.docs} logs, the store {expected}",
        )  # fmt: skip


def check_datadir(datadir: str | Path) -> CheckReport:
    """Open and check a data directory (ConfigError when there is none; DataDirLockedError
    while sync or serve has it open)."""
    store = open_for_check(datadir)
    try:
        return check_store(store, datadir)
    finally:
        store.close()

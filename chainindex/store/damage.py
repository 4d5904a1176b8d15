"""Naming what is damaged: a read of the data directory that finds a damaged record (a
LevelDB block failing its checksum, a record that does not decode) becomes a
:class:`~chainindex.errors.DataDamagedError` naming the component and the blocks it covers.

The components (:data:`HEADERS` ... :data:`TEXT_INDEX`) are those ``logfilter check``
reports; :data:`PRIMARY` are the ones only a node can give again, the others are derived
from them and rebuilt by ``logfilter repair`` (:mod:`chainindex.check.repair`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from chainindex.errors import CorruptDataError, DataDamagedError

__all__ = [
    "EXACT_INDEX",
    "HEADERS",
    "LOGS",
    "METADATA",
    "PRIMARY",
    "SECTIONS",
    "TEXT_INDEX",
    "damage",
    "section_blocks",
]

HEADERS: Final = "headers"
"""Header records, canonical hashes and the hash → number records."""
LOGS: Final = "logs"
"""Logs records."""
METADATA: Final = "metadata"
"""The ``meta/`` records (schema, settings, head, section count)."""
SECTIONS: Final = "bloom sections"
"""Bloom-bit vectors and rows, section heads."""
EXACT_INDEX: Final = "exact index"
"""The exact log index's records."""
TEXT_INDEX: Final = "text index"
"""The text index folder."""
PRIMARY: Final = frozenset({HEADERS, LOGS, METADATA})
"""Components only the node can give again (the others are rebuilt from them)."""


def section_blocks(section_size: int, first: int, last: int) -> tuple[int, int]:
    """The blocks of sections ``first..last``."""
    return first * section_size, (last + 1) * section_size - 1


@contextmanager
def damage(component: str, first: int | None = None, last: int | None = None) -> Iterator[None]:
    """Turn a :class:`~chainindex.errors.CorruptDataError` raised inside into a
    :class:`~chainindex.errors.DataDamagedError` of ``component``, blocks ``first..last``
    (one already naming its component passes unchanged)."""
    try:
        yield
    except DataDamagedError:
        raise
    except CorruptDataError as err:
        raise DataDamagedError(component, first, last, str(err)) from None

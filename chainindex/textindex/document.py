"""What the index is fed: a document is a bag of typed field values plus a stored blob.

Lucene's model (``Document``, ``IndexableField``, ``FieldType``): an index holds segments, a
segment holds documents, a document holds fields, a field's value is analyzed into terms. Here a
field value is one of three kinds, which decides how it is indexed:

- **keyword**: the whole value is one term (lowercased): addresses, hashes, event names;
- **text**: the value is analyzed by the standard analyzer into positioned terms (phrase and
  fuzzy searchable): decoded string arguments;
- **point**: an integer, indexed in the point index for exact and range queries (any size
  from ``-2**255`` to ``2**256 - 1``).

Every term field records term frequencies, positions and field lengths (BM25 norms), whatever
the kind of its values; keyword values simply produce one term at one position. A field name
may carry terms and points at once (a decoded argument ``value`` can be a ``uint256`` in one
event and a ``string`` in another): terms and points live in separate structures.

``doc_values`` are single-valued 64-bit integer columns, one value per document, used to sort
hits (``block``, ``logIndex``) without touching the stored blob. ``stored`` is returned as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["POINT_MAX", "POINT_MIN", "Document"]

POINT_MIN = -(2**255)
"""Smallest integer a point can hold (``int256`` minimum)."""
POINT_MAX = 2**256 - 1
"""Largest integer a point can hold (``uint256`` maximum)."""


@dataclass(slots=True)
class Document:
    """One document to index (for logfilter: one log)."""

    keywords: list[tuple[str, str]] = field(default_factory=list)
    """``(field, value)`` pairs indexed as single terms (lowercased)."""
    texts: list[tuple[str, str]] = field(default_factory=list)
    """``(field, value)`` pairs analyzed into positioned terms."""
    points: list[tuple[str, int]] = field(default_factory=list)
    """``(field, integer)`` pairs for the point index."""
    doc_values: dict[str, int] = field(default_factory=dict)
    """Single 64-bit integer per field, for sorting (missing = 0)."""
    stored: bytes = b""
    """Opaque bytes returned with a hit."""

"""The document-iterator contract (tantivy's ``DocSet``, Lucene's ``DocIdSetIterator``).

A :class:`DocSet` walks an ascending set of document ids of one segment:

- :meth:`~DocSet.doc` is the current document: ``-1`` before the first move, then a document
  of the set, then :data:`NO_MORE_DOCS` once exhausted (and forever after);
- :meth:`~DocSet.next` moves to the next document of the set and returns it;
- :meth:`~DocSet.advance` moves to the first document ``>= target`` and returns it; when
  ``target <= doc()`` it does not move and returns ``doc()`` (tantivy's ``seek``);
- :meth:`~DocSet.cost` is an upper bound on the number of documents (used to lead
  conjunctions with the sparsest set, seed 001).

Postings implement it block by block (:class:`~chainindex.textindex.postingsenum.PostingsEnum`):
``advance`` uses the skip data to jump over whole blocks. The query engine itself scores a
segment set-at-a-time (see :mod:`chainindex.textindex.query.base`): walking documents one by
one in Python would cost a function call per document, so scorers use the bulk forms of the
same operations (decode all blocks; decode only the blocks that can hold given candidates).
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["NO_MORE_DOCS", "DocSet"]

NO_MORE_DOCS = 2**31 - 1
"""The document id of an exhausted set (larger than any real document)."""


class DocSet(Protocol):
    """An ascending iterator over document ids (contract in the module docstring)."""

    def doc(self) -> int:
        """The current document."""
        ...

    def next(self) -> int:
        """Move to the next document and return it."""
        ...

    def advance(self, target: int) -> int:
        """Move to the first document >= ``target`` and return it."""
        ...

    def cost(self) -> int:
        """Upper bound on the number of documents."""
        ...

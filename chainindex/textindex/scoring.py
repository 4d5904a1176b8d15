"""BM25, Lucene's default similarity (``BM25Similarity``: idf, avgdl, norms,
boost).

For a term ``t`` of field ``f`` in document ``d``::

    score = boost · idf(t) · tf / (tf + k1 · (1 − b + b · dl / avgdl))
    idf(t) = ln(1 + (N − n + 0.5) / (n + 0.5))

with ``tf`` the occurrences of ``t`` in ``d``'s field, ``dl`` the field's length in ``d``
(in terms), ``N`` the documents that have the field, ``n`` those that contain ``t`` and
``avgdl`` the field's total length over ``N``. As in Lucene since 8.0 there is no
``(k1 + 1)`` factor (it does not change the ranking). Unlike Lucene, which encodes ``dl`` in
one byte and counts deleted documents until they are merged away, lengths are exact and the
statistics cover the live documents only: a score does not depend on how the index happens
to be split into segments, which is what lets the tests state it independently.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from chainindex.textindex.arrays import F64

__all__ = ["BM25", "K1", "B", "idf"]

K1 = 1.2
"""Term-frequency saturation."""
B = 0.75
"""Length normalization."""


def idf(doc_freq: int, doc_count: int) -> float:
    """Inverse document frequency of a term in ``doc_freq`` of ``doc_count`` documents."""
    return math.log(1 + (doc_count - doc_freq + 0.5) / (doc_freq + 0.5))


class BM25:
    """The scorer of one term (or phrase) over one field, statistics fixed at weight time."""

    __slots__ = ("avgdl", "weight")

    def __init__(self, idf_value: float, doc_count: int, sum_length: int, boost: float) -> None:
        self.weight = boost * idf_value
        """``boost · idf``."""
        self.avgdl = sum_length / doc_count if doc_count else 1.0
        """Average field length."""

    def score(self, freqs: npt.ArrayLike, lengths: npt.ArrayLike) -> F64:
        """Scores of documents with these frequencies and field lengths."""
        tf = np.asarray(freqs, dtype=np.float64)
        dl = np.asarray(lengths, dtype=np.float64)
        norm = K1 * (1 - B + B * dl / self.avgdl)
        result: F64 = self.weight * tf / (tf + norm)
        return result

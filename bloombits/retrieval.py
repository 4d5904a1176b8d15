"""The retrieval protocol: how the matcher asks for bit-vectors, and the shape of the answer.

go-ethereum hands retrieval tasks out as ``Retrieval`` structs (a bit, its sections and,
once served, their bitsets) through a channel its database handlers serve. Here the matcher
calls a :class:`Retriever`'s ``retrieve(bit, sections)`` and awaits the vectors, and a
retriever may answer either the plain way (a list of ``bytes | None``) or, to skip a
conversion on the hot path, with a :class:`VectorBatch` (the same vectors as rows of one
numpy array).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from bloombits.errors import RetrievalError

__all__ = ["Retriever", "VectorBatch", "as_vector_batch"]


class VectorBatch(NamedTuple):
    """The vectors of one bloom bit for a list of sections, as rows of one array."""

    vectors: npt.NDArray[np.uint8]
    """``(len(sections), section_size // 8)``: row ``i`` is the vector of ``sections[i]``
    (block ``k`` of the section at bit ``7 - k % 8`` of byte ``k // 8``); rows that are not
    ``present`` are ignored."""
    present: npt.NDArray[np.bool_]
    """``(len(sections),)``: False where the section is not available yet."""


class Retriever(Protocol):
    """Where the matcher gets bit-vectors from (a database, a remote peer, a test double)."""

    async def retrieve(self, bit: int, sections: list[int]) -> Sequence[bytes | None] | VectorBatch:
        """The uncompressed vector of bloom bit ``bit`` (0..2047) in each of ``sections``
        (ascending), in the same order: ``section_size // 8`` bytes each, or None for a
        section that is not available yet (the matcher asks for it again a little later).

        Raising ends every session the retrieval serves with that error.
        """
        ...


def as_vector_batch(
    answer: Sequence[bytes | None] | VectorBatch, count: int, width: int
) -> VectorBatch:
    """Check a retriever's ``answer`` for ``count`` sections of ``width``-byte vectors and
    return it as a :class:`VectorBatch`; a wrong shape raises :class:`RetrievalError`."""
    if isinstance(answer, VectorBatch):
        vectors, present = answer
        if vectors.shape != (count, width) or present.shape != (count,):
            raise RetrievalError(
                f"retriever answered {count} sections of {width}-byte vectors with arrays of "
                f"shape {vectors.shape} and {present.shape}"
            )
        if vectors.dtype != np.uint8 or present.dtype != np.bool_:
            raise RetrievalError(
                f"retriever answered with {vectors.dtype}/{present.dtype} arrays, "
                "expected uint8 vectors and a bool mask"
            )
        return answer
    if len(answer) != count:
        raise RetrievalError(f"retriever answered {len(answer)} vectors for {count} sections")
    present = np.fromiter((v is not None for v in answer), dtype=np.bool_, count=count)
    found = [v for v in answer if v is not None]
    for vector in found:
        if not isinstance(vector, bytes | bytearray | memoryview):
            raise RetrievalError(
                f"retriever answered a {type(vector).__name__}, expected bytes or None"
            )
        if len(vector) != width:
            raise RetrievalError(
                f"retriever answered a {len(vector)}-byte vector, expected {width} bytes"
            )
    vectors = np.zeros((count, width), dtype=np.uint8)
    if found:
        vectors[present] = np.frombuffer(b"".join(found), dtype=np.uint8).reshape(-1, width)
    return VectorBatch(vectors, present)

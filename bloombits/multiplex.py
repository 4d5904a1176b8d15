"""``multiplex``: the loop of one retriever task, serving a session's distributor.

go-ethereum's ``MatcherSession.Multiplex`` polls the session for retrieval tasks: allocate a
bit, wait a little if fewer than ``batch`` of its sections are pending (so that the batch can
fill), take up to ``batch`` sections, have them served, deliver the result. A session runs a
configurable number of these tasks (default 16), so that that many retrievals can be in
flight at once; a retriever shared by many sessions (the LevelDB one) bounds the real
concurrency behind them with its own thread pool.

A retriever error propagates out of the task and ends the session with that error.
"""

from __future__ import annotations

import asyncio

from bloombits.distributor import Distributor
from bloombits.retrieval import Retriever, as_vector_batch

__all__ = ["multiplex"]


async def multiplex(
    distributor: Distributor, retriever: Retriever, *, batch: int, wait: float, width: int
) -> None:
    """Serve ``distributor`` with ``retriever`` until it shuts down.

    ``batch`` is the most sections asked for in one call, ``wait`` the seconds to wait for a
    batch to fill, ``width`` the vector size in bytes (answers are checked against it).
    """
    while (bit := await distributor.allocate_retrieval()) is not None:
        if wait > 0 and distributor.pending_sections(bit) < batch:
            await asyncio.sleep(wait)
        sections = distributor.allocate_sections(bit, batch)
        answer = await retriever.retrieve(bit, sections.tolist()) if sections.size else []
        distributor.deliver(bit, sections, as_vector_batch(answer, len(sections), width))

"""Which chain a sync follows: the upstream's chain id and the data directory's agree.

Checked once at the start of a sync, before anything is written: the chain id the upstream
names (``eth_chainId``, or an archive's ``chainId``) against ``--chain-id`` and the data
directory's own; the directory's first block against the upstream's block at that height
(go-ethereum checks a peer's genesis and network id the same way before syncing from it). A
directory synced from an archive that named no chain gets the chain id once it is known.
"""

from __future__ import annotations

from chainindex.aio import run_to_completion
from chainindex.errors import ChainMismatchError
from chainindex.source.base import ChainSource
from chainindex.store.reader import ChainState
from chainindex.store.writer import ChainWriter, set_chain_id
from chainindex.sync.config import SyncConfig

__all__ = ["check_identity"]


async def check_identity(
    source: ChainSource, writer: ChainWriter, config: SyncConfig, state: ChainState
) -> int | None:
    """The chain id sync goes on with, after checking that ``source`` serves the chain the
    data directory (in ``state``) and ``config`` name; raises :class:`ChainMismatchError`
    otherwise. Stores the chain id on a directory that has none."""
    chain_id = await source.chain_id()
    if config.chain_id is not None:
        if chain_id is not None and chain_id != config.chain_id:
            raise ChainMismatchError(
                f"{source.name} serves chain {chain_id}, not chain {config.chain_id} (--chain-id)"
            )
        chain_id = config.chain_id
    writer.check_config(chain_id=chain_id, headers_only=config.headers_only, tail=config.from_block)
    if state.tail is not None:
        stored_tail = await run_to_completion(writer.header, state.tail)
        theirs = await source.header_at(state.tail)
        if stored_tail is None or theirs is None or theirs.hash != stored_tail.hash:
            raise ChainMismatchError(
                f"{source.name} does not have the data directory's first block "
                f"{state.tail}: it serves another chain"
            )
        if chain_id is not None and state.chain_id is None:  # an archive had none
            await run_to_completion(set_chain_id, writer.store, chain_id)
    return chain_id

"""Following a chain into the store: the fetch pipeline, ordered commits, reorg walk-back,
sections after confirmations, and the events that announce each durable commit.

``indexer`` drives it (``ChainIndexer``), ``pipeline`` fetches ahead, ``reorg`` finds the
common ancestor and fetches the branch that replaces ours, ``config`` holds ``SyncConfig``
(and ``SyncStatus``), ``events`` the ``ChainEvents`` fan-out.
"""

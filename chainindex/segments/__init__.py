"""Final history as sealed segments, built in parallel (``logfilter backfill``).

``manifest`` (what a sealed segment is, ``SEALED.json`` and ``DATADIR/manifest.json``, hash
links), ``build`` (one segment task: sync a range into its own store, compact, seal),
``executors`` (a Dask cluster, a Dask LocalCluster or a process pool), ``coordinator``
(plan, submit, rerun failures from scratch, check links, publish the manifest) and
``history`` (sealed segments opened for reading; where the head store continues).
"""

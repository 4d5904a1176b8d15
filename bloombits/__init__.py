"""Bloom-bit algorithms: blooms, section rotation, compression and the matcher pipeline.

Pure algorithm: no I/O beyond the retrieval protocol a caller hands in.

This package file imports nothing: ``bloombits.errors`` (the root error of the whole project)
and ``bloombits.arrays`` are leaves that any layer can import without loading the rest. Import
what you use from its module (``from bloombits.matcher import Matcher``).

Modules, leaves first:

* ``errors``: the project's error hierarchy, rooted at ``LogfilterError`` (imports nothing);
* ``arrays``: the numpy array aliases (``U8``, ``I64``, ``Indexes``, ``Mask``);
* ``keccak``: keccak256 with the fastest backend installed;
* ``bloom``: the three bloom bits of a value, and blooms of log sets;
* ``bitutil``: go-ethereum's sparse bit-vector compression, vectorized AND/OR/popcount;
* ``generator``: ``Generator``, a section's blooms rotated into 2048 per-bit vectors;
* ``retrieval``: the ``Retriever`` protocol and the shape of its answers;
* ``channel``: ``Channel``, the bounded FIFO between two pipeline tasks;
* ``scheduler``: ``Scheduler``, one bit's deduplicated, cached retrievals;
* ``distributor``: ``Distributor``, one session's queue of pending retrievals;
* ``multiplex``: the loop of one retriever task;
* ``valuecache``: ``ValueCache``, per-value AND-ed vectors kept across queries;
* ``submatch``: the sub-matcher stages of a session, seeing the matcher as a ``MatchPlan``;
* ``session``: ``MatcherSession``, one run of a matcher over a block range;
* ``matcher``: ``Matcher``, a filter compiled to bloom bits, which starts sessions.
"""

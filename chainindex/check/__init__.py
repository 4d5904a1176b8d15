"""Checking and repairing a data directory (``logfilter check``, ``logfilter repair``, and
the cheap check of the newest section that ``sync`` and ``serve`` run at start).

* :mod:`~chainindex.check.problems`: :class:`Problem` (component, blocks, one line) and the
  :class:`CheckReport`;
* :mod:`~chainindex.check.scan`: reading numbered records past damaged LevelDB blocks;
* :mod:`~chainindex.check.chain`: headers (links, hashes, index records) and logs (decode,
  bloom) block by block: the primary data;
* :mod:`~chainindex.check.derived`: bloom sections and the exact index against them;
* :mod:`~chainindex.check.text`: the text index's commit point and files;
* :mod:`~chainindex.check.datadir`: all of them over one snapshot;
* :mod:`~chainindex.check.repair`: rebuilding the derived data (after salvaging LevelDB);
* :mod:`~chainindex.check.startup`: the check at start, repairing derived damage there.
"""

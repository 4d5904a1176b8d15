"""era1 files (go-ethereum's ``internal/era``: pre-merge blocks and receipts, EIP-4444) as a
chain source, and their writer.

* :mod:`~chainindex.source.era1.e2store`: the e2store record framing and the era1 types;
* :mod:`~chainindex.source.era1.rlpdecode`: a strict RLP decoder;
* :mod:`~chainindex.source.era1.block`: a block tuple to the wire shape the checks take;
* :mod:`~chainindex.source.era1.accumulator`: the SSZ accumulator root;
* :mod:`~chainindex.source.era1.file`: one file through its block index (:class:`Era1File`);
* :mod:`~chainindex.source.era1.source`: a directory of them (:class:`Era1Source`);
* :mod:`~chainindex.source.era1.writer`: writing era1 files.
"""

from __future__ import annotations

from chainindex.source.era1.file import Era1File
from chainindex.source.era1.source import ERA1_PREFIX, Era1Source, is_era1
from chainindex.source.era1.writer import era1_tuple, write_era1_file

__all__ = ["ERA1_PREFIX", "Era1File", "Era1Source", "era1_tuple", "is_era1", "write_era1_file"]

"""Text search over logs: ABI decoding (``decode/``), one document per log (``document``),
the log-level index over the text engine (``index``: ``TextIndex``), search hits with their
decoded events (``hits``), and the feed that keeps the index in step with the chain
(``feed``). The text engine itself, ``chainindex.textindex``, knows nothing of chains.
"""

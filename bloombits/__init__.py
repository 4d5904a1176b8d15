"""Bloom-bit algorithms: blooms, section rotation, compression and the matcher pipeline.

Pure algorithm: no I/O beyond the retrieval protocol a caller hands in.
"""

from bloombits.bloom import bloom_contains, bloom_indexes, logs_bloom
from bloombits.errors import LogfilterError
from bloombits.generator import Generator

__all__ = ["Generator", "LogfilterError", "bloom_contains", "bloom_indexes", "logs_bloom"]

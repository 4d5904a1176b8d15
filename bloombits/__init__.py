"""Bloom-bit algorithms: blooms, section rotation, compression and the matcher pipeline.

Pure algorithm: no I/O beyond the retrieval protocol a caller hands in.
"""

from bloombits.bloom import bloom_contains, bloom_indexes, logs_bloom
from bloombits.errors import LogfilterError, MatcherError, RetrievalError
from bloombits.generator import Generator
from bloombits.matcher import Matcher
from bloombits.retrieval import Retriever, VectorBatch
from bloombits.session import MatchBatch, MatcherSession, SessionClosedError
from bloombits.valuecache import CacheStats, ValueCache

__all__ = [
    "CacheStats",
    "Generator",
    "LogfilterError",
    "MatchBatch",
    "Matcher",
    "MatcherError",
    "MatcherSession",
    "RetrievalError",
    "Retriever",
    "SessionClosedError",
    "ValueCache",
    "VectorBatch",
    "bloom_contains",
    "bloom_indexes",
    "logs_bloom",
]

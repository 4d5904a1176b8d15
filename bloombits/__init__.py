"""Bloom-bit algorithms: blooms, section rotation, compression and the matcher pipeline.

Pure algorithm: no I/O beyond the retrieval protocol a caller hands in.

This package file imports nothing: ``bloombits.errors`` (the root error of the whole project)
and ``bloombits.arrays`` are leaves that any layer can import without loading the rest. Import
what you use from its module (``from bloombits.matcher import Matcher``).
"""

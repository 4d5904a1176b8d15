"""Synthetic chains shared by the tests of this folder (generated once per session)."""

from __future__ import annotations

import pytest

from chainindex.synthetic import FILL_PRESETS, ChainGenerator, ChainShape, GeneratedRecord

SPARSE = ChainShape(fill=FILL_PRESETS["sparse"])
"""The default shape at the sparse preset."""
SATURATED = ChainShape()
"""The default shape (saturated preset)."""
SPARSE_BLOCKS = 1100  # three batches of 512
SATURATED_BLOCKS = 100  # four batches of 32


@pytest.fixture(scope="session")
def sparse_chain() -> list[GeneratedRecord]:
    """Blocks 0..1099 of a sparse chain, seed 11."""
    return list(ChainGenerator(SPARSE, seed=11).records(SPARSE_BLOCKS))


@pytest.fixture(scope="session")
def saturated_chain() -> list[GeneratedRecord]:
    """Blocks 0..99 of a saturated chain, seed 12."""
    return list(ChainGenerator(SATURATED, seed=12).records(SATURATED_BLOCKS))

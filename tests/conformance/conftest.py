"""Fixtures of the conformance tests: one anvil chain of a few thousand blocks, shared."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.anvil import Anvil
from tests.conformance.anvil_chain import build

CHAIN_BLOCKS = 3000


@pytest.fixture(scope="module")
def big_anvil() -> Iterator[Anvil]:
    """An anvil node holding a varied chain of 3,000 blocks (plus the deployments)."""
    with Anvil() as node:
        build(node, CHAIN_BLOCKS, seed=2024)
        yield node

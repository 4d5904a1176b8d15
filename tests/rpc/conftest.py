"""Fixtures of the rpc tests: a deployed Emitter on the test's anvil."""

from __future__ import annotations

import pytest

from tests.anvil import Anvil
from tests.emitter import Emitter


@pytest.fixture
def emitter(anvil: Anvil) -> Emitter:
    """An Emitter deployed on the test's anvil (automine on)."""
    return Emitter(anvil)

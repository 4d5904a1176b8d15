"""Access to the recorded real chains in ``shared/fixtures`` (see its README).

The fixtures live beside the repository (``../shared/fixtures``) or wherever
``LOGFILTER_FIXTURES`` points. They are required: a missing folder fails the tests that need
it with a message saying where it was looked for.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parent.parent


def fixtures_dir() -> Path:
    """The fixtures folder; raises with a clear message when it is missing."""
    path = Path(os.environ.get("LOGFILTER_FIXTURES", REPO.parent / "shared" / "fixtures"))
    if not (path / "README.md").is_file():
        raise FileNotFoundError(
            f"chain fixtures not found at {path}: set LOGFILTER_FIXTURES to the shared/fixtures "
            "folder"
        )
    return path


def execution_apis_archive() -> Path:
    """The execution-apis test chain as a chain archive (one block + receipts per line)."""
    return fixtures_dir() / "execution-apis" / "blocks.jsonl"


def mainnet_block_files() -> list[Path]:
    """The recorded mainnet blocks, one JSON file each, in block order."""
    return sorted((fixtures_dir() / "mainnet").glob("*.json"), key=lambda p: int(p.stem))


def all_block_records() -> Iterator[dict[str, Any]]:
    """Every recorded block record (``{"block": ..., "receipts": [...]}``) of both chains."""
    with execution_apis_archive().open("rb") as f:
        for line in f:
            yield orjson.loads(line)
    for path in mainnet_block_files():
        yield orjson.loads(path.read_bytes())


def hexbytes(value: str) -> bytes:
    """``0x``-prefixed hex to bytes (tests only; the code has its own strict codec)."""
    return bytes.fromhex(value[2:])

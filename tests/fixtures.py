"""Access to the recorded real chains the tests run on (see ``tests/data/CHAINS.md``).

The chains ship in the repository, compressed: ``tests/data/chains.tar.xz`` (about 0.5 MB;
33 MB unpacked) holds the execution-apis test chain and 17 mainnet blocks, with their
sources, licences and how they were checked in ``tests/data/CHAINS.md`` and the licence
texts beside it. The first test that needs them unpacks the archive once into
``tests/data/.unpacked/`` (ignored by git), atomically: into a temporary folder that is
renamed into place, so a run killed half way never leaves a partial tree behind.
``LOGFILTER_FIXTURES`` points the tests at another copy of the same folder instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
ARCHIVE = DATA / "chains.tar.xz"


def fixtures_dir() -> Path:
    """The fixtures folder (``LOGFILTER_FIXTURES``, else the shipped archive unpacked)."""
    override = os.environ.get("LOGFILTER_FIXTURES")
    path = Path(override) if override else _unpacked()
    if not (path / "README.md").is_file():
        raise FileNotFoundError(f"chain fixtures not found at {path} (LOGFILTER_FIXTURES)")
    return path


def _unpacked() -> Path:
    """The shipped archive unpacked under ``tests/data/.unpacked/<digest>/fixtures``, once."""
    digest = hashlib.sha256(ARCHIVE.read_bytes()).hexdigest()[:16]
    target = DATA / ".unpacked" / digest
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
        try:
            with tarfile.open(ARCHIVE, "r:xz") as tar:
                tar.extractall(staging, filter="data")
            try:
                staging.rename(target)
            except OSError:  # another process unpacked it first
                if not target.is_dir():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target / "fixtures"


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

"""Importing :mod:`rpc.cli` loads no command module: the commands are imported when the
parser is built. A worker process started with multiprocessing's ``spawn`` (a backfill's Dask
workers, its process pool, ``serve --processes``) imports its parent's main module again,
``rpc.cli``, and so no longer loads every command (aiohttp, the text index, the chain
generator) before its first task.

Checked in fresh interpreters, since this test process has imported everything already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
"""The repository root (``tests/rpc/commands/`` is three levels below it)."""

COMMAND_MODULES = {
    "rpc.commands.backfill",
    "rpc.commands.backup",
    "rpc.commands.build_index",
    "rpc.commands.build_sections",
    "rpc.commands.check",
    "rpc.commands.config",
    "rpc.commands.demo.command",
    "rpc.commands.export",
    "rpc.commands.generate",
    "rpc.commands.repair",
    "rpc.commands.search",
    "rpc.commands.serve",
    "rpc.commands.sync",
}


def _loaded(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_cli_loads_no_command() -> None:
    modules = _loaded("import rpc.cli")
    assert "rpc.cli" in modules
    assert modules & COMMAND_MODULES == set()
    assert {"aiohttp", "eth_abi", "distributed"} & modules == set()


def test_building_the_parser_loads_every_command_in_help_order() -> None:
    code = (
        "from rpc.cli import build_parser\n"
        "import argparse\n"
        "parser = build_parser()\n"
        "sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))\n"
        "print(','.join(sub.choices))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip().split(",") == [
        "demo", "sync", "serve", "backfill", "backup", "export", "build-sections",
        "build-index", "check", "repair", "generate", "search", "config",
    ]  # fmt: skip
    assert _loaded("from rpc.cli import build_parser\nbuild_parser()") >= COMMAND_MODULES

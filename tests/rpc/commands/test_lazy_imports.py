"""Importing :mod:`rpc.cli` loads no command module: the commands are imported when the
parser is built. A worker process started with multiprocessing's ``spawn`` (a backfill's Dask
workers, its process pool, ``serve --processes``) imports its parent's main module again,
``rpc.cli``, and so no longer loads every command (aiohttp, the text index, the chain
generator) before its first task.

Checked in fresh interpreters, since this test process has imported everything already."""

from __future__ import annotations

from tests.fresh import modules_after, run_python

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


def test_importing_the_cli_loads_no_command() -> None:
    modules = set(modules_after("import rpc.cli"))
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
    printed = run_python(code)
    assert printed.strip().split(",") == [
        "demo", "sync", "serve", "backfill", "backup", "export", "build-sections",
        "build-index", "check", "repair", "generate", "search", "config",
    ]  # fmt: skip
    assert set(modules_after("from rpc.cli import build_parser\nbuild_parser()")) >= COMMAND_MODULES

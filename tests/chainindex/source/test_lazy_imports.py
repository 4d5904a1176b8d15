"""Reading an archive loads no node transport and no chain generator: ``chainindex.source``
imports the sources that need aiohttp or the generator's ABI codecs (eth_abi, pydantic) only
when they are named or opened. A backfill worker, which reads an archive, starts faster.

Checked in fresh interpreters, since this test process has imported everything already."""

from __future__ import annotations

from tests.fixtures import execution_apis_archive
from tests.fresh import modules_after

HEAVY = ("aiohttp", "eth_abi", "chainindex.synthetic", "chainindex.source.upstream")
"""Packages a worker reading an archive does not need."""


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_syncing_from_an_archive_loads_no_transport_nor_generator() -> None:
    code = (
        "import asyncio\n"
        "from chainindex.source import SourceOptions, open_source\n"
        "async def main():\n"
        f"    async with open_source({str(execution_apis_archive())!r}, SourceOptions()) as s:\n"
        "        assert len(await s.blocks(0, 3, with_logs=True)) == 4\n"
        "asyncio.run(main())\n"
    )
    modules = modules_after(code)
    assert "chainindex.source.archive" in modules
    assert _heavy(modules) == []


def test_the_other_sources_load_when_named() -> None:
    modules = modules_after(
        "from chainindex.source import Era1Source, ReplaySource, RpcSource, SyntheticSource\n"
        "assert RpcSource.__name__ == 'RpcSource' and SyntheticSource.__module__ == "
        "'chainindex.source.synthetic'\n"
    )
    assert {"aiohttp", "chainindex.source.upstream", "chainindex.synthetic"} <= set(modules)
    assert {"chainindex.source.era1", "chainindex.source.replay"} <= set(modules)


def test_an_unknown_name_is_an_attribute_error() -> None:
    modules = modules_after(
        "import chainindex.source\n"
        "try:\n"
        "    chainindex.source.NoSuchSource\n"
        "except AttributeError as err:\n"
        "    assert 'NoSuchSource' in str(err)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
    )
    assert _heavy(modules) == []

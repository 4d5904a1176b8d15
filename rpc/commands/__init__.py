"""The ``logfilter`` subcommands, one module each.

A command module exposes ``register(subparsers)``, which adds its parser and sets
``run=<function(args) -> exit status>`` as its default. :func:`commands` lists them in the
order ``logfilter --help`` shows them: ``demo`` (the package :mod:`rpc.commands.demo`),
``sync``, ``serve``, ``backfill``, ``backup``, ``export``, ``build_sections``,
``build_index``, ``check``, ``repair``, ``generate``, ``search`` and ``config``. Beside them:
``options`` (flags shared by the commands), ``logsetup`` (the logging flags), ``settings``
and ``layered`` (flag values from the environment and a config file), ``progress`` (sync
progress for people), ``malloc`` (the malloc settings of long syncs) and ``processes``
(``serve --processes N``: the writer's readers, started and stopped with it).
"""

from __future__ import annotations

from types import ModuleType


def commands() -> list[ModuleType]:
    """The command modules in ``--help`` order. Imported here, when a parser is built, not
    when the package is: a process that only imports :mod:`rpc.cli` (a worker process that
    multiprocessing's spawn starts, which imports its parent's main module again) loads
    none of them."""
    from rpc.commands import (
        backfill,
        backup,
        build_index,
        build_sections,
        check,
        config,
        export,
        generate,
        repair,
        search,
        serve,
        sync,
    )
    from rpc.commands.demo import command as demo

    return [
        demo,
        sync,
        serve,
        backfill,
        backup,
        export,
        build_sections,
        build_index,
        check,
        repair,
        generate,
        search,
        config,
    ]

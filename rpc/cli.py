"""The ``logfilter`` command line.

Each subcommand is a small function; every deliberate error (a
:class:`~bloombits.errors.LogfilterError`) becomes one clear line on stderr and exit status 1,
never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import orjson

from bloombits.errors import LogfilterError
from bloombits.generator import Generator
from chainindex.store import SectionStore, open_datadir

__all__ = ["main"]


def _build_sections(args: argparse.Namespace) -> int:
    """Build bloom sections from the headers of a chain archive and print what was built."""
    size: int = args.section_size
    store = open_datadir(args.datadir)
    try:
        sections = SectionStore(store, size)
        blooms: list[bytes] = []
        hashes: list[bytes] = []
        started = time.perf_counter()
        with Path(args.archive).open("rb") as f:
            for line_no, line in enumerate(f, start=1):
                try:
                    block = orjson.loads(line)["block"]
                    number, bloom = int(block["number"], 16), bytes.fromhex(block["logsBloom"][2:])
                    block_hash = bytes.fromhex(block["hash"][2:])
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as err:
                    raise LogfilterError(
                        f"{args.archive}:{line_no}: not a block record: {err}"
                    ) from None
                if number != len(hashes):
                    raise LogfilterError(f"{args.archive}:{line_no}: block {number} out of order")
                blooms.append(bloom)
                hashes.append(block_hash)
        built = 0
        for section in range(sections.count(), len(hashes) // size):
            gen = Generator(size)
            gen.add_blooms(0, blooms[section * size : (section + 1) * size])
            with store.batch() as batch:
                head = hashes[(section + 1) * size - 1]
                sections.write_section(batch, section, head, gen.vectors())  # type: ignore[arg-type]
            fill = float(np.mean(np.bitwise_count(gen.vectors()))) / 8 / (size // 8)
            print(
                f"section {section}: blocks {section * size}..{(section + 1) * size - 1}, "
                f"head 0x{head.hex()[:16]}…, {fill:.1%} of vector bits set"
            )
            built += 1
        took = time.perf_counter() - started
        print(
            f"{len(hashes)} headers read, {built} new sections built "
            f"({sections.count()} stored) in {took:.2f}s into {args.datadir}"
        )
    finally:
        store.close()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="logfilter", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser(
        "build-sections", help="build bloom sections from the headers of a chain archive"
    )
    build.add_argument("--archive", required=True, help="chain archive (.jsonl)")
    build.add_argument("--datadir", required=True, help="data directory (LevelDB)")
    build.add_argument("--section-size", type=int, default=4096, help="blocks per section")
    build.set_defaults(run=_build_sections)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except LogfilterError as err:
        print(f"logfilter: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(
            f"logfilter: {err.strerror or err}: {err.filename or ''}".rstrip(": "), file=sys.stderr
        )
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

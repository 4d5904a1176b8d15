"""``logfilter search "QUERY"``: text search over the decoded logs of a data directory.

Reads the last commit of ``DATADIR/textindex/`` (or ``--index DIR``) read-only, so it works
beside a running service. Prints one block per hit (or, with ``--json``, the result as the
``logfilter_search`` JSON-RPC method returns it), then the total and the cursor of the next
page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from chainindex.errors import ConfigError
from chainindex.logsearch.index import SORTS, TEXT_INDEX_DIR, LogSearchHit, TextIndex
from chainindex.textindex.highlight import HighlightOptions
from rpc.server.codec.search_result import event_json, result_json


def register(commands: Any) -> None:
    """Add the subcommand to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "search",
        help="search the decoded logs (Lucene query syntax)",
        description="Text search over decoded logs, e.g. "
        "'event:NameRegistered AND name:vitalik*', 'wrapped~1', '\"wrapped ether\"'.",
    )
    parser.add_argument("query", help="query string (empty: every log matching the filters)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--datadir", help="data directory (its text index is DATADIR/textindex)")
    where.add_argument("--index", help="text index folder")
    parser.add_argument("--from-block", type=_block, help="first block")
    parser.add_argument("--to-block", type=_block, help="last block")
    parser.add_argument(
        "--address", action="append", type=_address, help="emitting contract (repeatable: any)"
    )
    parser.add_argument(
        "--topics",
        type=_topics,
        help='topic filter as eth_getLogs takes it, JSON: \'[["0xddf2..."], null, "0x..."]\'',
    )
    parser.add_argument("--limit", type=int, default=10, help="hits per page (default 10)")
    parser.add_argument("--after", help="cursor of the previous page")
    parser.add_argument("--sort", choices=list(SORTS), default="relevance")
    parser.add_argument("--highlight", action="store_true", help="mark matching words")
    parser.add_argument("--json", action="store_true", help="print the JSON-RPC result")
    parser.set_defaults(run=run)


def _block(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a block number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("block numbers are not negative")
    return value


def _hex_bytes(text: str, size: int, what: str) -> bytes:
    if not (isinstance(text, str) and text[:2] in ("0x", "0X") and len(text) == 2 + 2 * size):
        raise argparse.ArgumentTypeError(f"not {what} (0x + {2 * size} hex digits): {text!r}")
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None


def _address(text: str) -> bytes:
    return _hex_bytes(text, 20, "an address")


def _topics(text: str) -> list[list[bytes] | None]:
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise argparse.ArgumentTypeError("--topics must be a JSON array") from None
    if not isinstance(raw, list):
        raise argparse.ArgumentTypeError("--topics must be a JSON array")
    out: list[list[bytes] | None] = []
    for position in raw:
        if position is None:
            out.append(None)
        elif isinstance(position, str):
            out.append([_hex_bytes(position, 32, "a topic")])
        elif isinstance(position, list):
            out.append([_hex_bytes(t, 32, "a topic") for t in position])
        else:
            raise argparse.ArgumentTypeError("a topic position is null, a topic or a list")
    return out


def _describe(hit: LogSearchHit, rank: int) -> str:
    log = hit.log
    head = (
        f"#{rank}  block {log.block_number}  log {log.log_index}  "
        f"0x{log.address.hex()}  score {hit.score:.3f}"
    )
    if hit.event is None:
        body = "  (not decoded) topics: " + ", ".join("0x" + t.hex()[:16] + "…" for t in log.topics)
    else:
        shape = event_json(hit.event)
        args = ", ".join(f"{a['name']}={_short(a['value'])}" for a in shape["args"])
        body = f"  {shape['name']}({args})"
    lines = [head, body]
    for name, fragments in hit.highlights.items():
        lines.extend(f"  {name}: {fragment}" for fragment in fragments)
    return "\n".join(lines)


def _short(value: object) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def run(args: argparse.Namespace) -> int:
    """Search and print."""
    folder = Path(args.index) if args.index else Path(args.datadir) / TEXT_INDEX_DIR
    if not folder.is_dir():
        raise ConfigError(
            f"no text index at {folder}: sync with --text-index first "
            f"(logfilter sync --text-index --upstream URL|FILE --datadir DIR)"
        )
    terminal = sys.stdout.isatty()
    marks = HighlightOptions(
        pre="\033[1m" if terminal and not args.json else "<em>" if args.json else "[",
        post="\033[0m" if terminal and not args.json else "</em>" if args.json else "]",
        escape_html=bool(args.json),
    )
    with TextIndex.open(folder, readonly=True) as index:
        result = index.search(
            args.query,
            from_block=args.from_block,
            to_block=args.to_block,
            address=args.address,
            topics=args.topics,
            limit=args.limit,
            after=args.after,
            highlight=marks if args.highlight else False,
            sort=args.sort,
        )
    if args.json:
        sys.stdout.write(orjson.dumps(result_json(result)).decode() + "\n")
        return 0
    for rank, hit in enumerate(result.hits, start=1):
        print(_describe(hit, rank))
    shown = len(result.hits)
    print(f"{shown} of {result.total} matching logs")
    if result.cursor:
        print(f"next page: --after {result.cursor}")
    return 0

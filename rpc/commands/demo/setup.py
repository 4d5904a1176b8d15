"""The demo directory: a synthetic chain generated, synced and its query values picked.

Layout of ``DIR``::

    DIR/chain.jsonl   the generated chain archive: the demo's blocks, then LIVE_BLOCKS more
                      that the served chain gains one by one (new blocks for filters)
    DIR/data/         the data directory (LevelDB, and the text index in data/textindex/)
    DIR/demo.json     the manifest: what was generated, and the picked query values;
                      written last, so its presence means the setup is complete

A first run generates the archive (skipped when a complete one is there: archives are
written atomically), syncs blocks ``0 .. blocks - 1`` with the text index (resuming an
interrupted sync), picks the query values and writes the manifest. A later run with the
same parameters finds the manifest and reuses everything; other parameters are refused
with a clear error (the data directory belongs to one chain).
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

from bloombits.errors import LogfilterError
from bloombits.keccak import keccak256
from chainindex.logsearch.feed import sync_with_text_index
from chainindex.logsearch.index import TEXT_INDEX_DIR, TextIndex
from chainindex.source import ArchiveSource, ReplaySource
from chainindex.store import open_datadir
from chainindex.store.atomicfile import atomic_write
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from chainindex.synthetic import FILL_PRESETS, ChainGenerator, ChainShape
from chainindex.synthetic.words import WORDS
from rpc.commands.progress import ProgressReporter

__all__ = [
    "LIVE_BLOCKS",
    "MANIFEST_VERSION",
    "DemoError",
    "DemoPicks",
    "DemoSpec",
    "PreparedDemo",
    "prepare",
]

LIVE_BLOCKS = 256
"""Blocks generated after the demo's blocks, released one by one while serving."""

MANIFEST_VERSION = 2
"""Bumped when the layout, the picks or the chain change (an older demo directory is refused).
Version 2: the chain's receipts roots are real, as sync's verification requires."""

TRANSFER_TOPIC = "0x" + keccak256(b"Transfer(address,address,uint256)").hex()
"""topic0 of ERC-20 (and ERC-721) ``Transfer``."""

RECENT_BLOCKS = 1000
"""Most blocks of the busy-contract example range (the last ones synced)."""

RECENT_LOGS = 2000
"""The busy-contract range is shortened so that the contract emitted about this many logs
in it (a saturated chain's busiest contract would exceed the server's result limit)."""


class DemoError(LogfilterError):
    """The demo directory cannot be used as asked (one clear line to the user)."""


@dataclass(frozen=True, slots=True)
class DemoSpec:
    """What a demo chain is: fixed per demo directory."""

    blocks: int
    """Blocks synced at setup (``0 .. blocks - 1``)."""
    fill: str
    """Bloom fill preset: ``sparse`` or ``saturated``."""
    section_size: int
    """Blocks per bloom section."""
    seed: int = 0
    """Generator seed."""

    def shape(self) -> ChainShape:
        """The generator's shape."""
        return ChainShape(fill=FILL_PRESETS[self.fill])


@dataclass(frozen=True, slots=True)
class DemoPicks:
    """Query values read from the generated chain, so that every example finds logs."""

    busy_contract: str
    """The contract that emitted the most logs (0x hex)."""
    rare_contract: str
    """A contract with only a few logs in the synced blocks."""
    rare_logs: int
    """How many logs the rare contract emitted in the synced blocks."""
    transfer_topic: str
    """ERC-20 ``Transfer``'s topic0."""
    recent_from: int
    """First block of the recent range (the common-contract example)."""
    recent_to: int
    """Last block of the recent range: the last block synced at setup."""
    search_word: str
    """A word some ENS names registered in the chain start with."""
    search_hits: int
    """How many NameRegistered logs the word's search finds at setup."""


@dataclass(frozen=True, slots=True)
class PreparedDemo:
    """A demo directory ready to serve."""

    root: Path
    """The demo directory."""
    spec: DemoSpec
    """Its chain."""
    picks: DemoPicks
    """The example values."""
    reused: bool
    """Whether an existing setup was reused (nothing generated or synced)."""
    seconds: float
    """Setup time (generation, sync, picks; or just reading the manifest)."""
    phases: dict[str, float]
    """Seconds per phase of this run's setup (``generate``, ``sync``, ``picks``)."""

    @property
    def archive(self) -> Path:
        """The chain archive."""
        return self.root / "chain.jsonl"

    @property
    def datadir(self) -> Path:
        """The data directory."""
        return self.root / "data"


def _manifest_path(root: Path) -> Path:
    return root / "demo.json"


def _read_manifest(root: Path, spec: DemoSpec) -> DemoPicks | None:
    path = _manifest_path(root)
    if not path.exists():
        return None
    try:
        raw = orjson.loads(path.read_bytes())
        version, stored, picks = raw["version"], raw["spec"], raw["picks"]
        if version != MANIFEST_VERSION:
            raise DemoError(
                f"{root} holds a demo of another logfilter version: delete it or use another "
                "--datadir"
            )
        if stored != asdict(spec):
            raise DemoError(
                f"{root} holds another demo chain ({stored['blocks']} blocks, "
                f"{stored['fill']} fill, sections of {stored['section_size']}): use the same "
                "flags, another --datadir, or delete it"
            )
        return DemoPicks(**picks)
    except (orjson.JSONDecodeError, KeyError, TypeError) as err:
        raise DemoError(f"{path} is not a demo manifest ({err}): delete {root}") from None


def _check_root(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise DemoError(f"{root} is not a directory")
    if root.is_dir() and not _manifest_path(root).exists():
        foreign = {p.name for p in root.iterdir()} - {"chain.jsonl", "data"}
        if foreign:
            raise DemoError(
                f"{root} is not a demo directory (it holds {', '.join(sorted(foreign))}): "
                "use another --datadir"
            )


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _generate(spec: DemoSpec, archive: Path) -> None:
    """Write the archive (demo blocks, then the live reserve) atomically."""
    generator = ChainGenerator(spec.shape(), spec.seed)
    total = spec.blocks + LIVE_BLOCKS
    _say(f"demo: generating {total:,} blocks ({spec.fill} blooms) into {archive} ...")
    tty = sys.stderr.isatty()
    with atomic_write(archive, buffering=1 << 20) as out:
        for done, line in enumerate(generator.lines(total), start=1):
            out.write(line)
            if tty and (done % 512 == 0 or done == total):
                sys.stderr.write(f"\rgenerate: {done:,}/{total:,} blocks {done / total:6.1%}")
    if tty:
        sys.stderr.write("\n")
    stats = generator.stats
    _say(
        f"demo: wrote {stats.blocks:,} blocks, {stats.logs:,} logs, mean bloom fill "
        f"{stats.fill:.1%}"
    )


async def _sync(spec: DemoSpec, archive: Path, datadir: Path) -> None:
    """Sync blocks ``0 .. blocks - 1`` with the text index (resuming if interrupted)."""
    config = SyncConfig(
        section_size=spec.section_size, confirmations=0, until=spec.blocks - 1, follow=False
    )
    store = open_datadir(datadir)
    text = TextIndex.in_datadir(datadir)
    try:
        # The upstream head shown is the last demo block (not the archive's last block).
        source = ReplaySource(ArchiveSource(archive), spec.blocks - 1)
        try:
            reporter = ProgressReporter(sys.stderr, interval=5.0)
            indexer = ChainIndexer(store, source, config, observer=reporter)
            await sync_with_text_index(indexer, text)
            reporter.finish(indexer.status)
        finally:
            await source.aclose()
    finally:
        text.close()
        store.close()


_LOG_ADDRESS = re.compile(rb'"address":"(0x[0-9a-f]{40})"')
"""A log's address in an archive line (receipts name their accounts ``from``/``to``)."""


def _pick_contracts(spec: DemoSpec, archive: Path) -> tuple[str, int, str, int]:
    """The busiest contract of the synced blocks and the rarest one with at least 3 logs
    there, with their log counts (one streamed pass over the archive's first ``blocks`` lines)."""
    counts: Counter[bytes] = Counter()
    with archive.open("rb") as f:
        for _, line in zip(range(spec.blocks), f, strict=False):
            counts.update(_LOG_ADDRESS.findall(line))
    if not counts:
        raise DemoError("the generated chain has no logs: use more --blocks")
    busy, busy_logs = counts.most_common(1)[0]
    rare = sorted((n, a) for a, n in counts.items() if n >= 3)
    if not rare:
        raise DemoError("no contract of the generated chain has 3 logs: use more --blocks")
    logs, address = rare[0]
    return busy.decode(), busy_logs, address.decode(), logs


def _pick_search_word(datadir: Path) -> tuple[str, int]:
    """A word that starts between 3 and 50 registered ENS names (the most such names)."""
    best: tuple[int, str] | None = None
    with TextIndex.open(datadir / TEXT_INDEX_DIR, readonly=True) as index:
        for word in WORDS[:120]:
            if not re.fullmatch(r"[a-z]{4,}", word):
                continue
            total = index.search(f"event:NameRegistered AND name:{word}*", limit=1).total
            if 3 <= total <= 50 and (best is None or total > best[0]):
                best = (total, word)
    if best is None:
        raise DemoError("no ENS name of the generated chain suits a search: use more --blocks")
    return best[1], best[0]


def _pick(spec: DemoSpec, root: Path) -> DemoPicks:
    archive, datadir = root / "chain.jsonl", root / "data"
    busy, busy_logs, rare, rare_logs = _pick_contracts(spec, archive)
    span = min(RECENT_BLOCKS, spec.blocks, max(1, RECENT_LOGS * spec.blocks // busy_logs))
    word, hits = _pick_search_word(datadir)
    last = spec.blocks - 1
    return DemoPicks(
        busy_contract=busy,
        rare_contract=rare,
        rare_logs=rare_logs,
        transfer_topic=TRANSFER_TOPIC,
        recent_from=last - span + 1,
        recent_to=last,
        search_word=word,
        search_hits=hits,
    )


def prepare(root: Path, spec: DemoSpec) -> PreparedDemo:
    """The demo directory ``root`` for ``spec``: reused when complete, else set up (see the
    module docstring). Progress goes to stderr."""
    started = time.monotonic()
    _check_root(root)
    picks = _read_manifest(root, spec)
    if picks is not None:
        return PreparedDemo(root, spec, picks, True, time.monotonic() - started, {})
    root.mkdir(parents=True, exist_ok=True)
    phases: dict[str, float] = {}
    archive = root / "chain.jsonl"
    if not archive.exists():
        t = time.monotonic()
        _generate(spec, archive)
        phases["generate"] = time.monotonic() - t
    t = time.monotonic()
    asyncio.run(_sync(spec, archive, root / "data"))
    phases["sync"] = time.monotonic() - t
    t = time.monotonic()
    picks = _pick(spec, root)
    phases["picks"] = time.monotonic() - t
    manifest = {"version": MANIFEST_VERSION, "spec": asdict(spec), "picks": asdict(picks)}
    with atomic_write(_manifest_path(root)) as f:
        f.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")
    return PreparedDemo(root, spec, picks, False, time.monotonic() - started, phases)

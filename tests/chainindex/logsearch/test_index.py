"""TextIndex, the log-level API, on the real mainnet fixtures and on ENS-style events."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from eth_abi.abi import encode as abi_encode
from eth_typing import Address, BlockNumber, Hash32
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bloombits.keccak import keccak256
from chainindex.logsearch.decode import parse_event_signature
from chainindex.logsearch.index import TextIndex
from chainindex.textindex.errors import QueryError, QueryParseError, TextIndexError
from chainindex.types import ChainLog
from tests.chainindex.fixture_logs import mainnet_logs

NAME_REGISTERED = parse_event_signature(
    "NameRegistered(string name, bytes32 indexed label, address indexed owner,"
    " uint256 baseCost, uint256 premium, uint256 expires)"
)


@pytest.fixture(scope="module")
def mainnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TextIndex]:
    index = TextIndex.open(tmp_path_factory.mktemp("mainnet") / "textindex")
    index.add_logs(mainnet_logs())
    index.commit(22869878)
    yield index
    index.close()


def key(log: ChainLog) -> tuple[int, int]:
    return log.block_number, log.log_index


def geth_filter(
    logs: Sequence[ChainLog],
    from_block: int | None,
    to_block: int | None,
    addresses: list[bytes] | None,
    topics: list[list[bytes] | None],
) -> list[ChainLog]:
    """eth_getLogs semantics, as DESIGN.md states them."""
    out = []
    for log in logs:
        if from_block is not None and log.block_number < from_block:
            continue
        if to_block is not None and log.block_number > to_block:
            continue
        if addresses is not None and log.address not in addresses:
            continue
        if len(log.topics) < len(topics):
            continue
        if any(alts and log.topics[i] not in alts for i, alts in enumerate(topics)):
            continue
        out.append(log)
    return out


BLOCKS = sorted({log.block_number for log in mainnet_logs()})
ADDRESSES = sorted({log.address for log in mainnet_logs()})
TOPICS = sorted({t for log in mainnet_logs() for t in log.topics})


@st.composite
def filters(draw: st.DrawFn) -> tuple[object, ...]:
    lo = draw(st.one_of(st.none(), st.sampled_from(BLOCKS)))
    hi = draw(st.one_of(st.none(), st.sampled_from(BLOCKS)))
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    addresses = draw(
        st.one_of(st.none(), st.lists(st.sampled_from(ADDRESSES), min_size=1, max_size=3))
    )
    positions = draw(
        st.lists(
            st.one_of(
                st.none(), st.just([]), st.lists(st.sampled_from(TOPICS), min_size=1, max_size=3)
            ),
            max_size=4,
        )
    )
    return lo, hi, addresses, positions


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(filters())
def test_structural_filters_have_eth_getlogs_semantics(
    mainnet: TextIndex, spec: tuple[object, ...]
) -> None:
    lo, hi, addresses, positions = spec
    expected = geth_filter(mainnet_logs(), lo, hi, addresses, positions)  # type: ignore[arg-type]
    result = mainnet.search(
        "",
        from_block=lo,  # type: ignore[arg-type]
        to_block=hi,  # type: ignore[arg-type]
        address=addresses,  # type: ignore[arg-type]
        topics=positions,  # type: ignore[arg-type]
        limit=1000,
        sort="block_asc",
    )
    assert result.total == len(expected)
    assert [key(h.log) for h in result.hits] == [key(log) for log in expected[:1000]]


def test_transfers_to_an_address_in_chain_order_paged(mainnet: TextIndex) -> None:
    transfer = bytes.fromhex("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
    weth = bytes.fromhex("c02aaa39b223fe8d0a0e5c4f27ead9083c756cc2")
    expected = [key(log) for log in geth_filter(mainnet_logs(), None, None, [weth], [[transfer]])]
    assert len(expected) > 100
    walked: list[tuple[int, int]] = []
    cursor = None
    pages = 0
    while True:
        page = mainnet.search(
            "event:Transfer", address=weth, limit=37, after=cursor, sort="block_asc"
        )
        assert page.total == len(expected)
        walked += [key(h.log) for h in page.hits]
        pages += 1
        if page.cursor is None:
            break
        cursor = page.cursor
    assert walked == expected
    assert pages == -(-len(expected) // 37)
    newest = mainnet.search("event:Transfer", address=weth, limit=5, sort="block_desc")
    assert [key(h.log) for h in newest.hits] == expected[::-1][:5]


def test_hits_carry_the_log_and_its_decoded_event(mainnet: TextIndex) -> None:
    first = mainnet_logs()[0]
    result = mainnet.search("", from_block=first.block_number, to_block=first.block_number)
    hit = result.hits[0]
    assert hit.log == first
    assert hit.event is not None
    assert hit.event.name == "Transfer"
    assert [a.name for a in hit.event.args] == ["from", "to", "value"]
    assert hit.highlights == {}


def test_numeric_and_keyword_fields(mainnet: TextIndex) -> None:
    big = [
        log
        for log in mainnet_logs()
        if len(log.topics) == 3
        and log.topics[0].hex().startswith("ddf252ad")
        and len(log.data) == 32
        and int.from_bytes(log.data, "big") >= 10**24
    ]
    result = mainnet.search("event:Transfer AND value:[1000000000000000000000000 TO *]", limit=1000)
    assert result.total == len(big)
    owners = {log.topics[1][12:] for log in big}
    some = next(iter(owners))
    from_query = f"from:0x{some.hex().upper()}"  # addresses match whatever their case
    assert mainnet.search(from_query).total >= 1


def ens_log(name: str, block: int, index: int, owner: bytes = b"\x42" * 20) -> ChainLog:
    data = abi_encode(["string", "uint256", "uint256", "uint256"], [name, 10**16, 0, 2**35])
    return ChainLog(
        address=Address(bytes.fromhex("253553366da8546fc250f225fe3d25d0c782303b")),
        topics=(
            Hash32(NAME_REGISTERED.topic0),
            Hash32(keccak256(name.encode())),
            Hash32(bytes(12) + owner),
        ),
        data=data,
        block_number=BlockNumber(block),
        block_hash=Hash32(block.to_bytes(32, "big")),
        block_timestamp=1_700_000_000 + 12 * block,
        transaction_hash=Hash32(keccak256(f"{block}:{index}".encode())),
        transaction_index=index,
        log_index=index,
    )


NAMES = ["vitalik", "vitalik-fan", "nick", "wrapped-ether", "ether-wallet", "vitalk", "brantly"]


@pytest.fixture
def ens(tmp_path: Path) -> Iterator[TextIndex]:
    with TextIndex.open(tmp_path / "textindex") as index:
        index.add_logs(ens_log(name, 100 + i, i) for i, name in enumerate(NAMES))
        index.commit(100 + len(NAMES) - 1)
        yield index


def names(result: object) -> list[str]:
    hits = result.hits  # type: ignore[attr-defined]
    return [h.event.args[0].value for h in hits]


def test_ens_names_searched_by_text(ens: TextIndex) -> None:
    assert sorted(names(ens.search("name:vitalik"))) == ["vitalik", "vitalik-fan"]
    assert names(ens.search("vitalik", from_block=101)) == ["vitalik-fan"]
    assert sorted(names(ens.search("vitalik~1"))) == ["vitalik", "vitalik-fan", "vitalk"]
    assert sorted(names(ens.search('"wrapped ether"'))) == ["wrapped-ether"]
    assert names(ens.search('"ether wrapped"')) == []
    assert sorted(names(ens.search('"ether wrapped"~2'))) == ["wrapped-ether"]
    assert sorted(names(ens.search("eth*"))) == ["ether-wallet", "wrapped-ether"]
    assert names(ens.search("event:NameRegistered AND NOT vitalik*", sort="block_asc")) == [
        "nick",
        "wrapped-ether",
        "ether-wallet",
        "vitalk",  # not a word starting with "vitalik"
        "brantly",
    ]
    # The exact name scores above a longer one holding it.
    assert names(ens.search("vitalik"))[0] == "vitalik"


def test_highlights(ens: TextIndex) -> None:
    result = ens.search("vitalik OR wrapped", highlight=True, sort="block_asc")
    marks = [h.highlights for h in result.hits]
    assert marks == [
        {"name": ["<em>vitalik</em>"]},
        {"name": ["<em>vitalik</em>-fan"]},
        {"name": ["<em>wrapped</em>-ether"]},
    ]


def test_reorg_rollback_and_restart(tmp_path: Path) -> None:
    path = tmp_path / "textindex"
    with TextIndex.open(path) as index:
        assert index.committed_block() is None
        index.add_logs(ens_log(name, 100 + i, i) for i, name in enumerate(NAMES))
        index.commit(106, b"\x06" * 32)
        assert index.delete_from_block(103) == 3
        index.add_logs([ens_log("replacement", 104, 0)])
        assert sorted(names(index.search("", limit=100))) == sorted([*NAMES[:4], "replacement"])
        index.commit(104, b"\x04" * 32)
        index.add_logs([ens_log("never-committed", 105, 0)])
    with TextIndex.open(path) as index:
        assert index.committed_block() == 104
        assert index.committed_head() == (104, b"\x04" * 32)
        assert names(index.search("never")) == []
        assert names(index.search("replacement")) == ["replacement"]
        assert index.stats().docs == 5


def test_readonly_opens_beside_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "textindex"
    with TextIndex.open(path) as writer:
        writer.add_logs([ens_log("vitalik", 1, 0)])
        writer.commit(1)
        reader = TextIndex.open(path, readonly=True)
        assert names(reader.search("vitalik")) == ["vitalik"]
        writer.add_logs([ens_log("nick", 2, 0)])
        writer.commit(2)
        assert names(reader.search("nick")) == ["nick"]  # a new commit is picked up
        assert reader.committed_block() == 2
        with pytest.raises(TextIndexError, match="read-only"):
            reader.add_logs([ens_log("x", 3, 0)])
        reader.close()


def test_bad_requests_are_clear_errors(ens: TextIndex) -> None:
    with pytest.raises(QueryParseError, match="expected a clause after AND"):
        ens.search("vitalik AND")
    with pytest.raises(QueryError, match="limit must be between 1 and 1000"):
        ens.search("x", limit=0)
    with pytest.raises(QueryError, match="sort must be one of"):
        ens.search("x", sort="random")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="invalid cursor"):
        ens.search("x", after="not-a-cursor")
    cursor = ens.search("", limit=1, sort="block_asc").cursor
    assert cursor is not None
    with pytest.raises(QueryError, match="made for sort 'block_asc'"):
        ens.search("", after=cursor, sort="relevance")
    with pytest.raises(QueryError, match="after toBlock"):
        ens.search("", from_block=5, to_block=4)
    with pytest.raises(QueryError, match="20 bytes"):
        ens.search("", address=b"\x01")
    with pytest.raises(QueryError, match="at most 4 topic positions"):
        ens.search("", topics=[None] * 5)


def test_parallel_segment_search_gives_the_same_page(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from chainindex.textindex.merge.policy import NoMergePolicy
    from chainindex.textindex.writer import WriterConfig

    config = WriterConfig(max_buffered_docs=1500, merge_policy=NoMergePolicy)
    with (
        ThreadPoolExecutor(2) as pool,
        TextIndex.open(tmp_path / "a", config=config, executor=pool) as parallel,
    ):
        parallel.add_logs(mainnet_logs())
        parallel.commit(1)
        assert parallel.stats().segments > 5
        serial = TextIndex.open(tmp_path / "a", readonly=True)
        for query in ["event:Transfer", "event:Swap OR event:Sync", "value:[1 TO 1000000]"]:
            for sort in ("relevance", "block_desc"):
                a = parallel.search(query, limit=50, sort=sort)
                b = serial.search(query, limit=50, sort=sort)
                assert a.total == b.total
                assert [(h.score, key(h.log)) for h in a.hits] == [
                    (h.score, key(h.log)) for h in b.hits
                ]

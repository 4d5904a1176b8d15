"""The corpus of the text-index benchmark: mainnet-like decoded logs.

When the project's synthetic chain generator (:mod:`chainindex.synthetic`, ``logfilter
generate``) is installed, the logs come from it (a chain archive's receipts). Until then this
module draws its own, deterministically (numpy, seeded): contracts and accounts Zipf-
distributed, an event mix dominated by ERC-20 transfers, and string-bearing events
(ENS-style registrations, token metadata) whose names are built from a vocabulary, so the
text fields hold real words with near neighbours.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from eth_abi.abi import encode as abi_encode
from eth_typing import Address, BlockNumber, Hash32

from bloombits.keccak import keccak256
from chainindex.decode.abi import parse_event_signature
from chainindex.types import Log

__all__ = ["WORDS", "corpus_logs"]

SYLLABLES = [
    "vi",
    "ta",
    "lik",
    "eth",
    "er",
    "wrap",
    "ped",
    "to",
    "ken",
    "coin",
    "dao",
    "punk",
    "ape",
    "moon",
    "lab",
    "fi",
    "nance",
    "swap",
    "uni",
    "chain",
    "link",
    "bit",
    "gold",
    "sun",
    "star",
    "ra",
    "no",
    "me",
    "ka",
    "zo",
    "lu",
    "pix",
    "el",
    "nft",
    "art",
    "meta",
    "verse",
    "gen",
]
WORDS = sorted(
    {a + b for a in SYLLABLES for b in SYLLABLES}
    | {a + b + c for a in SYLLABLES[:12] for b in SYLLABLES[:12] for c in SYLLABLES[:6]}
)
"""Vocabulary of the string arguments (a few thousand pseudo-words)."""

TRANSFER = parse_event_signature(
    "Transfer(address indexed from, address indexed to, uint256 value)"
)
APPROVAL = parse_event_signature(
    "Approval(address indexed owner, address indexed spender, uint256 value)"
)
SWAP = parse_event_signature(
    "Swap(address indexed sender, uint256 amount0In, uint256 amount1In, uint256 amount0Out,"
    " uint256 amount1Out, address indexed to)"
)
DEPOSIT = parse_event_signature("Deposit(address indexed dst, uint256 wad)")
NAME_REGISTERED = parse_event_signature(
    "NameRegistered(string name, bytes32 indexed label, address indexed owner,"
    " uint256 baseCost, uint256 premium, uint256 expires)"
)
TEXT_CHANGED = parse_event_signature(
    "TextChanged(bytes32 indexed node, string indexed indexedKey, string key, string value)"
)


def _addresses(rng: np.random.Generator, n: int) -> list[bytes]:
    return [bytes(x) for x in rng.integers(0, 256, size=(n, 20), dtype=np.uint8)]


def _word32(value: int) -> bytes:
    return value.to_bytes(32, "big")


def corpus_logs(n_logs: int, seed: int = 1, logs_per_block: int = 200) -> Iterator[Log]:
    """``n_logs`` logs, in chain order, ``logs_per_block`` per block."""
    rng = np.random.default_rng(seed)
    contracts = _addresses(rng, 20_000)
    accounts = _addresses(rng, 300_000)
    ens = contracts[0]
    resolver = contracts[1]
    kinds = rng.choice(6, size=n_logs, p=[0.70, 0.10, 0.08, 0.05, 0.04, 0.03])
    contract_ix = np.minimum(rng.zipf(1.3, size=n_logs) - 1, len(contracts) - 1)
    account_ix = np.minimum(rng.zipf(1.2, size=(n_logs, 2)) - 1, len(accounts) - 1)
    amounts = rng.lognormal(40, 6, size=n_logs)
    word_ix = np.minimum(rng.zipf(1.4, size=(n_logs, 3)) - 1, len(WORDS) - 1)
    n_words = rng.integers(1, 4, size=n_logs)
    tx = b""
    for i in range(n_logs):
        block = i // logs_per_block
        if i % 3 == 0:
            tx = keccak256(b"tx" + i.to_bytes(8, "big"))
        kind = int(kinds[i])
        a, b = accounts[account_ix[i, 0]], accounts[account_ix[i, 1]]
        amount = int(min(amounts[i], 2.0**250))
        address = contracts[int(contract_ix[i])]
        if kind == 0:
            topics = [TRANSFER.topic0, bytes(12) + a, bytes(12) + b]
            data = _word32(amount)
        elif kind == 1:
            topics = [APPROVAL.topic0, bytes(12) + a, bytes(12) + b]
            data = _word32(amount)
        elif kind == 2:
            topics = [SWAP.topic0, bytes(12) + a, bytes(12) + b]
            data = b"".join(_word32(x) for x in (amount, 0, 0, amount // 3))
        elif kind == 3:
            topics = [DEPOSIT.topic0, bytes(12) + a]
            data = _word32(amount)
        elif kind == 4:
            name = "-".join(WORDS[int(w)] for w in word_ix[i, : n_words[i]])
            address = ens
            topics = [NAME_REGISTERED.topic0, keccak256(name.encode()), bytes(12) + a]
            data = abi_encode(
                ["string", "uint256", "uint256", "uint256"], [name, amount, 0, 1_700_000_000 + i]
            )
        else:
            value = " ".join(WORDS[int(w)] for w in word_ix[i, : n_words[i]])
            address = resolver
            topics = [TEXT_CHANGED.topic0, keccak256(a), keccak256(b"description")]
            data = abi_encode(["string", "string"], ["description", value])
        yield Log(
            address=Address(address),
            topics=tuple(Hash32(t) for t in topics),
            data=data,
            block_number=BlockNumber(block),
            block_hash=Hash32(keccak256(block.to_bytes(8, "big"))),
            block_timestamp=1_600_000_000 + 12 * block,
            transaction_hash=Hash32(tx),
            transaction_index=(i % logs_per_block) // 3,
            log_index=i % logs_per_block,
        )

"""A brute-force reference for the text-search tests: ENS-style ``NameRegistered`` logs read
straight from the raw JSON (an archive file or a node's answer) and decoded here with eth-abi,
sharing nothing with the text index."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from eth_abi.abi import decode

from bloombits.keccak import keccak256

NAME_REGISTERED = (
    "0x" + keccak256(b"NameRegistered(string,bytes32,address,uint256,uint256,uint256)").hex()
)
"""Topic 0 of ENS's ``NameRegistered``."""


@dataclass(frozen=True, slots=True)
class Registration:
    """One ``NameRegistered`` log, decoded plainly."""

    block: int
    log_index: int
    address: str
    owner_topic: str
    name: str
    base_cost: int
    raw: dict[str, Any]

    @property
    def key(self) -> tuple[int, int]:
        return self.block, self.log_index

    def words(self) -> list[str]:
        """The name's words as a plain tokenizer splits them (lowercase runs of \\w)."""
        return re.findall(r"\w+", self.name.lower())


def registration(log: dict[str, Any]) -> Registration | None:
    """The log decoded if it is a ``NameRegistered`` (else None)."""
    if not log["topics"] or log["topics"][0] != NAME_REGISTERED or len(log["topics"]) != 3:
        return None
    name, base_cost, _, _ = decode(
        ["string", "uint256", "uint256", "uint256"], bytes.fromhex(log["data"][2:])
    )
    return Registration(
        int(log["blockNumber"], 16),
        int(log["logIndex"], 16),
        log["address"].lower(),
        log["topics"][2],
        name,
        base_cost,
        log,
    )


def archive_registrations(archive: Path) -> list[Registration]:
    """Every ``NameRegistered`` log of a chain archive, in chain order."""
    out = []
    with archive.open("rb") as lines:
        for line in lines:
            for receipt in orjson.loads(line)["receipts"]:
                for log in receipt["logs"]:
                    found = registration(log)
                    if found is not None:
                        out.append(found)
    return out


def keys_of(hits: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(block, log index) of JSON-RPC hits."""
    return [(int(h["log"]["blockNumber"], 16), int(h["log"]["logIndex"], 16)) for h in hits]

"""The committed Emitter artifact is the compiled committed source, and it emits what it says."""

from __future__ import annotations

import subprocess

import orjson
from eth_abi.abi import decode

from bloombits.keccak import keccak256
from tests.anvil import Anvil
from tests.emitter import ARTIFACT, NAME_REGISTERED_TOPIC, Emitter
from tests.fixtures import REPO, hexbytes


def test_artifact_matches_a_fresh_compile() -> None:
    compiled = subprocess.run(
        ["node", "tests/contracts/build.js"], cwd=REPO, capture_output=True, check=True
    ).stdout
    assert orjson.loads(compiled) == orjson.loads(ARTIFACT.read_bytes())


def test_emitted_logs(anvil: Anvil) -> None:
    emitter = Emitter(anvil)
    owner = anvil.accounts()[4]
    topics = [bytes([i]) * 32 for i in range(1, 5)]
    calls = [
        emitter.emit_log([], b""),
        emitter.emit_log(topics[:1], b"\x01"),
        emitter.emit_log(topics, b"x" * 100),
        emitter.emit_many(7, b"\x09" * 32),
        emitter.register("vitalik", owner, 5 * 10**15, 0, 1_900_000_000),
    ]
    logs = [anvil.rpc("eth_getTransactionReceipt", tx)["logs"] for tx in calls]
    assert [(len(g[0]["topics"]), g[0]["data"]) for g in logs[:3]] == [
        (0, "0x"), (1, "0x01"), (4, "0x" + "78" * 100),
    ]  # fmt: skip
    assert [hexbytes(t) for t in logs[2][0]["topics"]] == topics
    many = logs[3]
    assert [len(g["topics"]) for g in many] == [i % 5 for i in range(7)]
    assert [int(g["data"], 16) for g in many] == list(range(7))
    first = keccak256(b"\x09" * 32 + (1).to_bytes(32, "big"))
    assert hexbytes(many[1]["topics"][0]) == first
    (registered,) = logs[4]
    assert hexbytes(registered["topics"][0]) == NAME_REGISTERED_TOPIC
    assert hexbytes(registered["topics"][1]) == keccak256(b"vitalik")
    assert hexbytes(registered["topics"][2]) == bytes(12) + hexbytes(owner)
    assert decode(["string", "uint256", "uint256", "uint256"], hexbytes(registered["data"])) == (
        "vitalik", 5 * 10**15, 0, 1_900_000_000,
    )  # fmt: skip

"""The demo's ready-to-paste examples for a running server: ``curl``, web3.py, the client.

Every JSON-RPC example is a :class:`CurlExample` (a title and the exact request body), so
that :mod:`rpc.commands.demo.tour` sends byte for byte what the printed ``curl`` command sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from bloombits.keccak import keccak256
from rpc.commands.demo.setup import DemoPicks

__all__ = [
    "CurlExample",
    "checksum_address",
    "client_snippet",
    "curl_examples",
    "search_query",
    "web3_snippet",
]


@dataclass(frozen=True, slots=True)
class CurlExample:
    """One JSON-RPC request, shown as a ``curl`` command."""

    key: str
    """Short name the tour refers to (``rare``, ``busy``, ``status``, ``search``)."""
    title: str
    """What it asks, in words."""
    body: dict[str, Any]
    """The JSON-RPC request object."""

    @property
    def body_json(self) -> str:
        """The request body, compact JSON (no single quote: safe inside ``'...'``)."""
        return orjson.dumps(self.body).decode()

    def command(self, url: str) -> str:
        """The shell command."""
        return f"curl -s {url} -H 'Content-Type: application/json' -d '{self.body_json}'"


def checksum_address(address: str) -> str:
    """EIP-55 mixed-case form of a 0x address (what web3.py wants)."""
    plain = address[2:].lower()
    digest = keccak256(plain.encode()).hex()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(plain)
    )


def search_query(picks: DemoPicks) -> str:
    """The text search of the demo: ENS names starting with the picked word."""
    return f"event:NameRegistered AND name:{picks.search_word}*"


def _call(method: str, *params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}


def curl_examples(picks: DemoPicks) -> list[CurlExample]:
    """The JSON-RPC examples, in the order shown."""
    rare = {"fromBlock": "0x0", "toBlock": hex(picks.recent_to), "address": picks.rare_contract}
    busy = {
        "fromBlock": hex(picks.recent_from),
        "toBlock": hex(picks.recent_to),
        "address": picks.busy_contract,
        "topics": [picks.transfer_topic],
    }
    search = {"query": search_query(picks), "limit": 3, "highlight": True}
    return [
        CurlExample(
            "rare",
            f"every log of a rare contract, blocks 0..{picks.recent_to}",
            _call("eth_getLogs", rare),
        ),
        CurlExample(
            "busy",
            f"ERC-20 Transfers of the busiest contract, blocks "
            f"{picks.recent_from}..{picks.recent_to}",
            _call("eth_getLogs", busy),
        ),
        CurlExample("status", "where the index stands", _call("logfilter_status")),
        CurlExample(
            "search",
            f"text search: ENS names starting with '{picks.search_word}'",
            _call("logfilter_search", search),
        ),
    ]


def web3_snippet(url: str, picks: DemoPicks) -> str:
    """web3.py: ``eth.get_logs`` over HTTP."""
    address = checksum_address(picks.busy_contract)
    return (
        "from web3 import Web3\n"
        f'w3 = Web3(Web3.HTTPProvider("{url}"))\n'
        "logs = w3.eth.get_logs({\n"
        f'    "fromBlock": {picks.recent_from}, "toBlock": {picks.recent_to},\n'
        f'    "address": "{address}",\n'
        f'    "topics": ["{picks.transfer_topic}"],\n'
        "})\n"
        'print(len(logs), "Transfer logs; first in block", logs[0]["blockNumber"])'
    )


def client_snippet(url: str, picks: DemoPicks) -> str:
    """The client library: logs over any range, a polled filter, a text search."""
    return (
        "import time\n"
        "from rpc.client import Client\n"
        f'with Client("{url}") as client:\n'
        "    # any range: the client splits it when the server's limits ask for it\n"
        "    logs = client.get_logs(\n"
        f'        from_block=0, to_block="latest", address="{picks.rare_contract}"\n'
        "    )\n"
        "    print(len(logs), logs[0].block_number, logs[0].transaction_hash.hex())\n"
        f'    with client.new_filter(topics=["{picks.transfer_topic}"]) as transfers:\n'
        "        time.sleep(10)  # the demo chain grows by a block every few seconds\n"
        '        print(len(transfers.changes()), "new Transfer logs")\n'
        f'    result = client.search("{search_query(picks)}", limit=3, highlight=True)\n'
        '    print(result.total, "names found")\n'
        "    for hit in result.hits:\n"
        '        print(f"{hit.score:.2f}", hit.log.block_number, hit.highlights["name"])'
    )

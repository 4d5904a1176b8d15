"""The ABI registry: which event a log is, from its address, topic 0 and number of topics.

Three tiers, searched in order: events bound to the log's address (from a user's ABI with
``addresses``), then the user's unbound events, then the built-in events. Within a tier the
key is ``(topic0, number of indexed parameters)``, so ERC-20 ``Transfer`` (two indexed
parameters) and ERC-721 ``Transfer`` (three) are told apart; a later registration replaces an
earlier one with the same key in the same tier. Anonymous events have no signature topic and
are skipped (counted in :attr:`AbiRegistry.skipped_anonymous`).

A user ABI file (``--abi FILE``) holds JSON in one of these shapes:

- an ABI array (solc output; non-event entries are ignored; human-readable strings such as
  ``"event Foo(string name)"`` are accepted too), applying to every address;
- an object with an ``abi`` array and optionally ``address`` or ``addresses`` (a build artifact
  of Hardhat/Foundry has this shape, without addresses);
- an array of such objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
from eth_typing import Address

from chainindex.errors import AbiError
from chainindex.logsearch.decode.abi import EventAbi, event_from_json, parse_event_signature
from chainindex.logsearch.decode.builtin import builtin_events

__all__ = ["AbiRegistry"]

_Key = tuple[bytes, int]


class AbiRegistry:
    """Events by address, topic 0 and topic count."""

    def __init__(self, *, builtins: bool = True) -> None:
        self._bound: dict[tuple[Address, bytes, int], EventAbi] = {}
        self._user: dict[_Key, EventAbi] = {}
        self._builtin: dict[_Key, EventAbi] = {}
        self._by_human: dict[str, EventAbi] = {}
        self.skipped_anonymous = 0
        """Anonymous events seen in added ABIs (they cannot be recognized, so are skipped)."""
        if builtins:
            for event in builtin_events():
                self._builtin[(event.topic0, event.indexed_count)] = event
                self._by_human[event.human()] = event

    def add_event(self, event: EventAbi, addresses: Iterable[Address] | None = None) -> None:
        """Register a user event, for the given addresses only or (``None``) for all."""
        if event.anonymous:
            self.skipped_anonymous += 1
            return
        self._by_human[event.human()] = event
        key = (event.topic0, event.indexed_count)
        if addresses is None:
            self._user[key] = event
            return
        for address in addresses:
            self._bound[(address, *key)] = event

    def add_abi(
        self, abi: Sequence[Any], addresses: Iterable[Address] | None = None, *, where: str = ""
    ) -> int:
        """Register every event of an ABI array; returns how many were registered."""
        if isinstance(abi, str | bytes) or not isinstance(abi, Sequence):
            raise AbiError(f"{where or 'ABI'}: expected an array of ABI entries")
        bound = None if addresses is None else list(addresses)
        count = 0
        for entry in abi:
            event: EventAbi | None = None
            if isinstance(entry, str):
                if entry.strip().startswith("event "):
                    event = parse_event_signature(entry)
            elif isinstance(entry, Mapping):
                if entry.get("type") == "event":
                    event = event_from_json(entry)
            else:
                raise AbiError(f"{where or 'ABI'}: unreadable ABI entry {entry!r:.60}")
            if event is not None and not event.anonymous:
                count += 1
            if event is not None:
                self.add_event(event, bound)
        return count

    def load_file(self, path: str | Path) -> int:
        """Register the events of a user ABI file (shapes in the module docstring)."""
        where = str(path)
        try:
            document = orjson.loads(Path(path).read_bytes())
        except orjson.JSONDecodeError as err:
            raise AbiError(f"{where}: not JSON: {err}") from None
        items = document if _is_list_of_objects_with_abi(document) else [document]
        count = 0
        for item in items:
            if isinstance(item, Mapping):
                if "abi" not in item:
                    raise AbiError(f"{where}: an object must have an 'abi' array")
                count += self.add_abi(item["abi"], _addresses(item, where), where=where)
            else:
                count += self.add_abi(item, where=where)
        return count

    def lookup(self, address: Address, topic0: bytes, topic_count: int) -> EventAbi | None:
        """The event a log with this address, first topic and number of topics is, if known."""
        key = (topic0, topic_count - 1)
        return self._bound.get((address, *key)) or self._user.get(key) or self._builtin.get(key)

    def by_human(self, human: str) -> EventAbi:
        """The event with this human-readable form (parsed when not registered)."""
        event = self._by_human.get(human)
        if event is None:
            event = parse_event_signature(human)
            self._by_human[human] = event
        return event

    def events(self) -> list[EventAbi]:
        """Every registered event (all tiers), without duplicates."""
        seen: dict[str, EventAbi] = {}
        for event in [*self._bound.values(), *self._user.values(), *self._builtin.values()]:
            seen.setdefault(event.human(), event)
        return list(seen.values())


def _is_list_of_objects_with_abi(document: object) -> bool:
    return (
        isinstance(document, list)
        and bool(document)
        and all(isinstance(item, Mapping) and "abi" in item for item in document)
    )


def _addresses(item: Mapping[str, Any], where: str) -> list[Address] | None:
    raw = item.get("addresses", item.get("address"))
    if raw is None:
        return None
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values:
        raise AbiError(f"{where}: 'addresses' must be an address or a non-empty list")
    out = []
    for value in values:
        if not (isinstance(value, str) and len(value) == 42 and value[:2] in ("0x", "0X")):
            raise AbiError(f"{where}: bad address {value!r}")
        try:
            out.append(Address(bytes.fromhex(value[2:])))
        except ValueError:
            raise AbiError(f"{where}: bad address {value!r}") from None
    return out

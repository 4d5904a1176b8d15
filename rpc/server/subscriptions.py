"""``eth_subscribe`` over WebSocket: ``logs`` and ``newHeads`` notifications.

Each :class:`ServerSubscription` belongs to one connection (its
:class:`~rpc.server.dispatch.Peer`) and ends with ``eth_unsubscribe`` or when the connection
closes. Chain events are turned into notifications as geth sends them (``FilterAPI.Logs`` and
``FilterAPI.NewHeads`` in go-ethereum's ``eth/filters/api.go``): one ``eth_subscription``
message per log (the logs of blocks undone by a reorg first, with ``removed: true``, then
those of the new blocks) and one per new head.

A subscription is created inactive: notifications are held until its id has been queued
as the answer to ``eth_subscribe`` (:meth:`SubscriptionHub.activate`), so a client never
sees a notification for an id it has not been given yet.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import orjson

from chainindex.filters import LogQuery, event_logs
from chainindex.filters.installed import new_id
from chainindex.sync.events import ChainEvent
from rpc.server.codec import encode_head, encode_log
from rpc.server.dispatch import Peer
from rpc.server.protocol import LIMIT_EXCEEDED, JsonRpcError

__all__ = ["ServerSubscription", "SubscriptionHub"]


@dataclass(slots=True)
class ServerSubscription:
    """One subscription of one connection."""

    id: str
    """Its id (geth's form)."""
    kind: str
    """``"logs"`` or ``"newHeads"``."""
    peer: Peer
    """Where notifications go."""
    owner: Hashable
    """The connection it belongs to."""
    query: LogQuery | None = None
    """Criteria and bounds of a ``logs`` subscription."""
    active: bool = False
    """Whether notifications go out (else they are held)."""
    held: list[bytes] = field(default_factory=list)
    """Notifications held until activation."""

    def notify(self, result_json: str | bytes) -> None:
        """Send (or hold) one notification carrying ``result_json``."""
        if isinstance(result_json, str):
            result_json = result_json.encode()
        message = (
            b'{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"'
            + self.id.encode()
            + b'","result":'
            + result_json
            + b"}}"
        )
        if self.active:
            self.peer.push(message)
        else:
            self.held.append(message)


class SubscriptionHub:
    """Every live subscription, fed with chain events."""

    def __init__(self, max_per_connection: int) -> None:
        self.max_per_connection = max_per_connection
        """Most subscriptions one connection may hold."""
        self._subs: dict[str, ServerSubscription] = {}
        self._by_owner: dict[Hashable, set[str]] = {}

    def __len__(self) -> int:
        return len(self._subs)

    def subscribe(
        self, peer: Peer, owner: Hashable, kind: str, query: LogQuery | None = None
    ) -> ServerSubscription:
        """A new (inactive) subscription of ``owner``."""
        owned = self._by_owner.setdefault(owner, set())
        if len(owned) >= self.max_per_connection:
            raise JsonRpcError(
                LIMIT_EXCEEDED,
                f"too many subscriptions on this connection (at most {self.max_per_connection})",
            )
        sub = ServerSubscription(new_id(), kind, peer, owner, query)
        self._subs[sub.id] = sub
        owned.add(sub.id)
        return sub

    def activate(self, sub: ServerSubscription) -> None:
        """Let ``sub``'s notifications go out, the held ones first."""
        if sub.id not in self._subs:
            return
        sub.active = True
        for message in sub.held:
            sub.peer.push(message)
        sub.held.clear()

    def unsubscribe(self, owner: Hashable, sub_id: str) -> bool:
        """End ``owner``'s subscription ``sub_id``; False if it has none by that id."""
        sub = self._subs.get(sub_id)
        if sub is None or sub.owner != owner:
            return False
        del self._subs[sub_id]
        self._by_owner[owner].discard(sub_id)
        return True

    def close_owner(self, owner: Hashable) -> None:
        """End every subscription of a closed connection."""
        for sub_id in self._by_owner.pop(owner, set()):
            self._subs.pop(sub_id, None)

    def drop_all(self, reason: str) -> None:
        """End every subscription and close their connections, telling ``reason`` (the
        event feed was lost: notifications can no longer be complete)."""
        peers = {id(s.peer): s.peer for s in self._subs.values()}
        self._subs.clear()
        self._by_owner.clear()
        for peer in peers.values():
            peer.close(reason)

    def on_event(self, event: ChainEvent) -> None:
        """Notify every subscription of what ``event`` brings."""
        if not self._subs:
            return
        heads: list[bytes] | None = None
        for sub in list(self._subs.values()):
            if sub.kind == "newHeads":
                if heads is None:
                    heads = [orjson.dumps(encode_head(b.header)) for b in event.added]
                for head in heads:
                    sub.notify(head)
            else:
                assert sub.query is not None
                for log in event_logs(event, sub.query):
                    sub.notify(encode_log(log))

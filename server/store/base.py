"""The store protocol: one small interface, two implementations (memory, Redis).

A commit is atomic: the new state, the events it appended to the room log, its audit
entries, the client_ids it saw, its calls to the on-call webhook (the outbox) and the
room's next timer deadline are written together, and only if the stored state still has the version the
transition started from. That is what makes
``seq`` unique and timers fire once when many workers share one store.
"""

from __future__ import annotations

import json
import secrets
from typing import Any, NamedTuple, Protocol

from ..core.model import AuditEntry, Event, RoomState
from ..core.outcome import Outcome


class StoreUnavailable(Exception):
    """The store cannot be reached now; callers answer ``unavailable`` and retry later."""


class OutboxItem(NamedTuple):
    """A committed webhook call not yet delivered: ``key`` acknowledges it."""

    key: str
    data: dict[str, Any]
    tries: int

    @classmethod
    def from_key(cls, key: str, tries: int) -> OutboxItem:
        return cls(key, json.loads(key)["data"], tries)

    @property
    def id(self) -> str:
        """The same on every attempt: a receiver can drop a repeat by it."""
        return str(json.loads(self.key)["id"])


def outbox_keys(outcome: Outcome) -> list[str]:
    """The webhook calls a commit writes to the outbox, each under a key of its own
    (``{id, data}`` as JSON: ids and times only, never names or text)."""
    return [json.dumps({"id": secrets.token_hex(8), "data": dict(n.data)}, separators=(",", ":"))
            for n in outcome.notices if n.to.kind == "webhook"]


class Store(Protocol):
    async def create_room(self, state: RoomState, deadline: int | None = None) -> bool:
        """Store a new room; False if a room with that id exists already."""
        ...

    async def load(self, room_id: str) -> RoomState | None: ...

    async def load_with_client_id(self, room_id: str, client_key: str) -> tuple[RoomState | None, int | None]:
        """The room, and what was remembered of ``client_key`` (``room.client_key``) as of
        that state or later: the seq its first try got (or HELD_SEQ / BLOCKED_SEQ)."""
        ...

    async def commit(self, expected_version: int, outcome: Outcome, deadline: int | None) -> bool:
        """Write ``outcome`` if the stored version is still ``expected_version``."""
        ...

    async def events_after(self, room_id: str, seq: int) -> list[Event] | None:
        """Every logged event with a seq above ``seq``, in order; None if ``seq`` is
        older than the retained log (the caller then sends a reset snapshot)."""
        ...

    async def recent_chat(self, room_id: str, limit: int) -> list[Event]:
        """The last ``limit`` chat messages in the retained log, oldest first."""
        ...

    async def delete_room(self, room_id: str) -> None:
        """Forget everything of a room but its audit entries."""
        ...

    async def room_ids(self) -> list[str]: ...

    async def due_rooms(self, now: int, limit: int = 100) -> list[str]:
        """Rooms whose next deadline has come."""
        ...

    async def next_due(self) -> int | None:
        """The earliest deadline of any room, or None."""
        ...

    async def audit(self, room: str | None, since: int | None, limit: int = 1000) -> list[AuditEntry]: ...

    async def claim_outbox(self, lease_ms: int, limit: int = 20) -> list[OutboxItem]:
        """Webhook calls due now (committed, not acknowledged), each hidden from other
        claimers for ``lease_ms``: a claimer that dies leaves it to the next one."""
        ...

    async def ack_outbox(self, key: str) -> None:
        """The call was delivered (or given up): forget it."""
        ...

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the store cannot be reached."""
        ...

    async def close(self) -> None: ...

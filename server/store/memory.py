"""The embedded store: everything in this process's memory, nothing on disk.

The default when no Redis URL is given. One process only; it keeps the same contract as
the Redis store (the shared contract tests run against both).
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from typing import Final

from ..core.model import CLIENT_IDS_KEPT, LOG_RETAIN, AuditEntry, Event, RoomState
from ..core.outcome import Outcome
from .base import OutboxItem, outbox_keys

# Keep twice the contract's minimum so that a reconnect just past 1000 events still
# recovers without a reset; an event is a few hundred bytes.
LOG_KEPT: Final = 2 * LOG_RETAIN
# Audit entries kept at most (the oldest go first), besides the retention period.
AUDIT_MAX: Final = 100_000


class MemoryStore:
    def __init__(self, audit_retention_ms: int = 30 * 86_400_000) -> None:
        self._rooms: dict[str, RoomState] = {}
        self._logs: dict[str, deque[Event]] = {}
        self._deadlines: dict[str, int] = {}
        self._heap: list[tuple[int, str]] = []
        self._audit: deque[AuditEntry] = deque(maxlen=AUDIT_MAX)
        self._audit_retention_ms = audit_retention_ms
        # room -> client key -> seq (insertion ordered, at most CLIENT_IDS_KEPT)
        self._client_ids: dict[str, dict[str, int]] = {}
        # key -> [due (ms, wall clock), tries]: webhook calls not yet delivered.
        self._outbox: dict[str, list[int]] = {}

    async def create_room(self, state: RoomState, deadline: int | None = None) -> bool:
        if state.id in self._rooms:
            return False
        self._rooms[state.id] = state
        self._logs[state.id] = deque(maxlen=LOG_KEPT)
        self._set_deadline(state.id, deadline)
        return True

    async def load(self, room_id: str) -> RoomState | None:
        return self._rooms.get(room_id)

    async def load_with_client_id(self, room_id: str, client_key: str) -> tuple[RoomState | None, int | None]:
        return self._rooms.get(room_id), self._client_ids.get(room_id, {}).get(client_key)

    async def commit(self, expected_version: int, outcome: Outcome, deadline: int | None) -> bool:
        state = outcome.state
        current = self._rooms.get(state.id)
        if current is None or current.version != expected_version:
            return False
        self._rooms[state.id] = state
        self._logs[state.id].extend(outcome.events)
        for entry in outcome.audit:
            self._append_audit(entry)
        if outcome.client_ids:
            ids = self._client_ids.setdefault(state.id, {})
            ids.update(outcome.client_ids)
            while len(ids) > CLIENT_IDS_KEPT:
                del ids[next(iter(ids))]
        for key in outbox_keys(outcome):
            self._outbox[key] = [0, 0]
        self._set_deadline(state.id, deadline)
        return True

    async def claim_outbox(self, lease_ms: int, limit: int = 20) -> list[OutboxItem]:
        now = int(time.time() * 1000)
        out: list[OutboxItem] = []
        for key, item in list(self._outbox.items()):
            if len(out) >= limit:
                break
            if item[0] <= now:
                item[0] = now + lease_ms
                item[1] += 1
                out.append(OutboxItem.from_key(key, item[1]))
        return out

    async def ack_outbox(self, key: str) -> None:
        self._outbox.pop(key, None)

    async def events_after(self, room_id: str, seq: int) -> list[Event] | None:
        log = self._logs.get(room_id)
        state = self._rooms.get(room_id)
        if log is None or state is None:
            return None
        if seq >= state.seq:
            return []
        if not log or log[0].seq > seq + 1:
            return None
        return [e for e in log if e.seq > seq]

    async def recent_chat(self, room_id: str, limit: int) -> list[Event]:
        out: list[Event] = []
        for e in reversed(self._logs.get(room_id, ())):
            if e.type == "chat.message":
                out.append(e)
                if len(out) >= limit:
                    break
        out.reverse()
        return out

    async def delete_room(self, room_id: str) -> None:
        self._rooms.pop(room_id, None)
        self._logs.pop(room_id, None)
        self._deadlines.pop(room_id, None)
        self._client_ids.pop(room_id, None)

    async def room_ids(self) -> list[str]:
        return list(self._rooms)

    def _set_deadline(self, room_id: str, deadline: int | None) -> None:
        if deadline is None:
            self._deadlines.pop(room_id, None)
            return
        if self._deadlines.get(room_id) != deadline:
            self._deadlines[room_id] = deadline
            heapq.heappush(self._heap, (deadline, room_id))

    def _drop_stale(self) -> None:
        while self._heap and self._deadlines.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)

    async def due_rooms(self, now: int, limit: int = 100) -> list[str]:
        due: list[str] = []
        self._drop_stale()
        for at, room in sorted(self._heap)[: limit * 2]:
            if at > now or len(due) >= limit:
                break
            if self._deadlines.get(room) == at and room not in due:
                due.append(room)
        return due

    async def next_due(self) -> int | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def _append_audit(self, entry: AuditEntry) -> None:
        self._audit.append(entry)
        cutoff = entry.at - self._audit_retention_ms
        while self._audit and self._audit[0].at < cutoff:
            self._audit.popleft()

    async def audit(self, room: str | None, since: int | None, limit: int = 1000) -> list[AuditEntry]:
        out = [a for a in self._audit
               if (room is None or a.room == room) and (since is None or a.at >= since)]
        return out[-limit:]

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

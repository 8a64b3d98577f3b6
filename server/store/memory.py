"""The embedded store: everything in this process's memory, nothing on disk.

The default when no Redis URL is given. One process only; it keeps the same contract as
the Redis store (the shared contract tests run against both), TTLs included: a room that
has seen no commit for ``keys.ROOM_IDLE_TTL_MS`` is forgotten, and a room's audit
``audit_retention_ms`` after its last entry, both by the injected clock.
"""

from __future__ import annotations

import bisect
import copy
import heapq
import itertools
import time
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from ..clock import Clock, SystemClock
from ..core.model import CLIENT_IDS_KEPT, LOG_RETAIN, AuditEntry, Event, RoomState
from ..core.outcome import Outcome
from . import keys
from .base import (
    AUDIT_KEPT,
    AUDIT_MAX,
    AUDIT_PAGE_MAX,
    AttendanceRow,
    AuditClass,
    AuditCursor,
    AuditFilter,
    AuditPage,
    Held,
    OutboxItem,
    audit_class,
    outbox_keys,
    page_of,
)

# Keep twice the contract's minimum so that a reconnect just past 1000 events still
# recovers without a reset; an event is a few hundred bytes.
LOG_KEPT: Final = 2 * LOG_RETAIN

__all__ = ["AUDIT_MAX", "LOG_KEPT", "MemoryStore"]


@dataclass
class _RoomAudit:
    """One room's audit: per class, entries sorted by (at, id)."""

    touched: int  # clock time of the last append: the Redis keys' TTL starts there
    newest: int = 0  # ``at`` of the newest entry
    rings: dict[AuditClass, list[Held]] = field(default_factory=lambda: {"action": [], "signal": []})

    def size(self) -> int:
        return sum(len(r) for r in self.rings.values())


class MemoryStore:
    def __init__(self, audit_retention_ms: int = 30 * 86_400_000, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._rooms: dict[str, RoomState] = {}
        self._logs: dict[str, deque[Event]] = {}
        self._deadlines: dict[str, int] = {}
        self._heap: list[tuple[int, str]] = []
        # room -> clock time of its last commit, least recently committed first
        self._touched: OrderedDict[str, int] = OrderedDict()
        # room -> its audit, least recently appended to first
        self._audit: OrderedDict[str, _RoomAudit] = OrderedDict()
        self._audit_total = 0
        self._audit_ids = itertools.count(1)
        self._audit_retention_ms = audit_retention_ms
        # room -> client key -> seq (insertion ordered, at most CLIENT_IDS_KEPT)
        self._client_ids: dict[str, dict[str, int]] = {}
        # room -> held message id -> text
        self._held: dict[str, dict[str, str]] = {}
        # key -> [due (ms, wall clock), tries]: webhook calls not yet delivered.
        self._outbox: dict[str, list[int]] = {}
        self._att: dict[tuple[str, str, str], list[int]] = {}
        self._att_open: dict[tuple[str, str], tuple[str, int, int]] = {}  # date, since, expires
        self._att_follow: dict[str, int] = {}
        # The on-call rota's shifts, and when they were last read or written (its TTL).
        self._rota: list[dict[str, Any]] = []
        self._rota_touched = 0

    def _touch(self, room_id: str) -> None:
        self._touched[room_id] = self._clock.now_ms()
        self._touched.move_to_end(room_id)

    def _expire(self) -> None:
        """What Redis's TTLs do there: forget rooms idle for ROOM_IDLE_TTL_MS (state, log,
        client ids, deadline) and audit past its retention since the room's last entry.
        Called by every operation; each expired room costs once, a live one nothing."""
        now = self._clock.now_ms()
        while self._touched:
            room_id, at = next(iter(self._touched.items()))
            if at + keys.ROOM_IDLE_TTL_MS > now:
                break
            state = self._rooms.get(room_id)
            if state is not None and state.kind == "oncall" and state.parent is None and not state.ephemeral:
                # The on-call room is always open: a quiet week must not turn a member in
                # crisis away with not_found. (Redis: see the note in the issue-12 stop.)
                self._touch(room_id)
                continue
            self._forget(room_id)
        while self._audit:
            room_id, held = next(iter(self._audit.items()))
            if held.touched + self._audit_retention_ms > now:
                break
            self._drop_audit(room_id)

    def _forget(self, room_id: str) -> None:
        self._rooms.pop(room_id, None)
        self._logs.pop(room_id, None)
        self._deadlines.pop(room_id, None)
        self._client_ids.pop(room_id, None)
        self._held.pop(room_id, None)
        self._touched.pop(room_id, None)

    async def create_room(self, state: RoomState, deadline: int | None = None) -> bool:
        self._expire()
        if state.id in self._rooms:
            return False
        self._rooms[state.id] = state
        self._logs[state.id] = deque(maxlen=LOG_KEPT)
        self._set_deadline(state.id, deadline)
        self._touch(state.id)
        return True

    async def load(self, room_id: str) -> RoomState | None:
        self._expire()
        return self._rooms.get(room_id)

    async def load_with_client_id(self, room_id: str, client_key: str) -> tuple[RoomState | None, int | None]:
        self._expire()
        return self._rooms.get(room_id), self._client_ids.get(room_id, {}).get(client_key)

    async def commit(self, expected_version: int, outcome: Outcome, deadline: int | None) -> bool:
        self._expire()
        state = outcome.state
        current = self._rooms.get(state.id)
        if current is None or current.version != expected_version:
            return False
        self._rooms[state.id] = state
        self._logs[state.id].extend(outcome.events)
        self._touch(state.id)
        if outcome.audit:
            self._append_audit(state.id, outcome.audit)
        if outcome.client_ids:
            ids = self._client_ids.setdefault(state.id, {})
            ids.update(outcome.client_ids)
            while len(ids) > CLIENT_IDS_KEPT:
                del ids[next(iter(ids))]
        if outcome.held_texts or outcome.held_dropped:
            texts = self._held.setdefault(state.id, {})
            texts.update(outcome.held_texts)
            for held_id in outcome.held_dropped:
                texts.pop(held_id, None)
        for key in outbox_keys(outcome):
            self._outbox[key] = [0, 0]
        self._set_deadline(state.id, deadline)
        return True

    async def claim_outbox(self, lease_ms: int, limit: int = 20) -> list[OutboxItem]:
        # Wall time, not the injected clock: the outbox's leases are the pager's, which
        # runs in real time (the Redis store uses Redis's TIME), whatever clock the rooms use.
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

    async def seq(self, room_id: str) -> int | None:
        self._expire()
        state = self._rooms.get(room_id)
        return None if state is None else state.seq

    async def events_after(self, room_id: str, seq: int) -> list[Event] | None:
        self._expire()
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
        self._expire()
        out: list[Event] = []
        for e in reversed(self._logs.get(room_id, ())):
            if e.type == "chat.message":
                out.append(e)
                if len(out) >= limit:
                    break
        out.reverse()
        return out

    async def delete_room(self, room_id: str) -> None:
        self._forget(room_id)

    async def held_texts(self, room_id: str, ids: list[str]) -> dict[str, str]:
        texts = self._held.get(room_id, {})
        return {i: texts[i] for i in ids if i in texts}

    async def room_ids(self) -> list[str]:
        self._expire()
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
        self._expire()
        due: list[str] = []
        self._drop_stale()
        for at, room in sorted(self._heap)[: limit * 2]:
            if at > now or len(due) >= limit:
                break
            if self._deadlines.get(room) == at and room not in due:
                due.append(room)
        return due

    async def next_due(self) -> int | None:
        self._expire()
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    # -- audit (the rules are in base.py; redis.py does the same in its commit script) --------

    def _append_audit(self, room_id: str, entries: tuple[AuditEntry, ...]) -> None:
        held = self._audit.get(room_id)
        if held is None:
            held = self._audit[room_id] = _RoomAudit(touched=0)
        held.touched = self._clock.now_ms()
        self._audit.move_to_end(room_id)
        before = held.size()
        for entry in entries:
            bisect.insort(held.rings[audit_class(entry.action)], (entry.at, next(self._audit_ids), entry))
            held.newest = max(held.newest, entry.at)
        cutoff = held.newest - self._audit_retention_ms
        for cls, ring in held.rings.items():
            del ring[:max(bisect.bisect_left(ring, (cutoff,)), len(ring) - AUDIT_KEPT[cls])]
        self._audit_total += held.size() - before
        for old in [r for r, a in self._audit.items() if a.newest < cutoff]:
            self._drop_audit(old)
        while self._audit_total > AUDIT_MAX and self._audit:
            self._evict_largest()

    def _drop_audit(self, room_id: str) -> None:
        held = self._audit.pop(room_id, None)
        if held is not None:
            self._audit_total -= held.size()

    def _evict_largest(self) -> None:
        """Take from the room holding the most, its oldest signals first, down to the
        next largest room's size at most (one step of the loop in redis.py's script)."""
        [(first, largest), *rest] = heapq.nlargest(2, ((a.size(), r) for r, a in self._audit.items()))
        held = self._audit[largest]
        take = min(self._audit_total - AUDIT_MAX, max(1, first - (rest[0][0] if rest else 0)))
        for ring in (held.rings["signal"], held.rings["action"]):
            n = min(take, len(ring))
            del ring[:n]
            take -= n
        self._audit_total -= first - held.size()
        if held.size() == 0:
            del self._audit[largest]

    def _newest_first(self, held: _RoomAudit, f: AuditFilter) -> Iterator[Held]:
        rings = []
        upper = f.upper
        for cls in f.classes():
            ring = held.rings[cls]
            lo = 0 if f.since is None else bisect.bisect_left(ring, (f.since,))
            hi = len(ring) if upper is None else bisect.bisect_left(ring, (upper.at, upper.id))
            rings.append(h for h in reversed(ring[lo:hi]) if f.wants(h[2]))
        return heapq.merge(*rings, key=lambda h: (h[0], h[1]), reverse=True)

    async def audit_page(self, room: str | None, since: int | None, before: AuditCursor | None = None,
                         limit: int = AUDIT_PAGE_MAX, *, until: int | None = None,
                         actions: frozenset[str] | None = None) -> AuditPage:
        self._expire()
        if room is None:
            rooms = list(self._audit.values())
        else:
            rooms = [self._audit[room]] if room in self._audit else []
        f = AuditFilter(since, before, until, actions)
        streams = [self._newest_first(held, f) for held in rooms]
        return page_of(heapq.merge(*streams, key=lambda h: (h[0], h[1]), reverse=True), limit)

    async def audit(self, room: str | None, since: int | None, limit: int = AUDIT_PAGE_MAX) -> list[AuditEntry]:
        return (await self.audit_page(room, since, None, limit)).entries

    async def rota(self) -> list[dict[str, Any]]:
        now = self._clock.now_ms()
        if self._rota_touched + keys.ROTA_TTL_MS <= now:
            self._rota = []
        self._rota_touched = now
        return copy.deepcopy(self._rota)

    async def save_rota(self, shifts: list[dict[str, Any]]) -> None:
        self._rota = copy.deepcopy(shifts)
        self._rota_touched = self._clock.now_ms()

    # -- attendance ----------------------------------------------------------------------
    # (room, date, participant) -> [ms, shared, expires]; (room, participant) -> [date,
    # since, expires]; participant -> expires of their follow-up opt-in. Expiry is on the
    # ``now`` the caller passes (the injected clock), as the Redis keys' TTLs are.

    def _att_expire(self, now: int) -> None:
        for k in [k for k, v in self._att.items() if v[2] <= now]:
            del self._att[k]
        for o in [o for o, v in self._att_open.items() if v[2] <= now]:
            del self._att_open[o]
        for f in [f for f, at in self._att_follow.items() if at <= now]:
            del self._att_follow[f]

    async def attendance_record(self, op: str, room: str, participant: str, date: str, now: int,
                                ttl_ms: int) -> None:
        self._att_expire(now)
        expires = now + ttl_ms
        opened = self._att_open.get((room, participant))
        if op == "open" and opened is None:
            opened = (date, now, expires)
        if opened is not None and op != "close":
            opened = self._att_open[(room, participant)] = (opened[0], opened[1], expires)
        day = opened[0] if opened is not None else date
        if op == "close":
            if opened is None:
                return
            del self._att_open[(room, participant)]
        rec = self._att.setdefault((room, day, participant), [0, 0, expires])
        rec[2] = expires
        if participant in self._att_follow:  # an opt-in lasts while they come
            self._att_follow[participant] = expires
        if op == "close" and opened is not None:
            rec[0] += max(0, now - opened[1])
        elif op == "share":
            rec[1] = 1

    def _att_rows(self, now: int, room: str | None, participant: str | None) -> list[AttendanceRow]:
        self._att_expire(now)
        rows = []
        for (r, d, p), (ms, shared, _) in sorted(self._att.items()):
            if (room is None or r == room) and (participant is None or p == participant):
                opened = self._att_open.get((r, p))
                extra = now - opened[1] if opened is not None and opened[0] == d else 0
                rows.append(AttendanceRow(r, d, p, ms + max(0, extra), bool(shared)))
        return rows

    async def attendance_of(self, participant: str, now: int) -> list[AttendanceRow]:
        return self._att_rows(now, None, participant)

    async def attendance_room(self, room: str, now: int) -> list[AttendanceRow]:
        return self._att_rows(now, room, None)

    async def attendance_erase(self, participant: str) -> int:
        gone = [k for k in self._att if k[2] == participant]
        for k in gone:
            del self._att[k]
        for o in [o for o in self._att_open if o[1] == participant]:
            del self._att_open[o]
        return len(gone)

    async def attendance_follow(self, participant: str, on: bool | None, now: int, ttl_ms: int) -> bool:
        self._att_expire(now)
        if on is True:
            self._att_follow[participant] = now + ttl_ms
        elif on is False:
            self._att_follow.pop(participant, None)
        return participant in self._att_follow

    async def add_outbox(self, calls: list[str]) -> None:
        for key in calls:
            self._outbox.setdefault(key, [0, 0])

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

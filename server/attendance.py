"""Attendance (``[attendance]``): records what each committed transition changes, answers
a member about their own history, the admin API about a circle or a participant id, and
writes ``attendance.missed`` to the webhook outbox when a follower misses meetings.

Pseudonymous: participant ids (the token's ``sub``), room ids, dates, minutes and a
shared flag; never a name, never text, in the store, the logs or the webhook. Only rooms
listed in ``[attendance] rooms`` (with ``enabled = true``) are recorded. What the pure
part decides is in ``core/attendance.py``.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from .clock import Clock
from .core import attendance as a
from .core.model import Notice, RoomState
from .core.outcome import Outcome
from .core.recurrence import schedule_of
from .store import Store
from .store.base import AttendanceRow

log = logging.getLogger("circles.attendance")

DAY_MS: Final = 86_400_000
MISSED: Final = "attendance.missed"
# The meetings one read returns at most (a year of daily meetings in several circles).
ROWS_MAX: Final = 2000


@dataclass(frozen=True)
class AttendanceConfig:
    """``[attendance]`` (docs/protocol.md §10): off unless ``enabled``, and then
    recorded only in the circles listed in ``rooms``; kept ``retention_days``; a member
    who asked for follow-up and misses ``missed_after`` scheduled meetings of a circle in
    a row is named by id to ``webhook_url`` (``attendance.missed``)."""

    enabled: bool = False
    rooms: tuple[str, ...] = ()
    retention_days: int = 90
    missed_after: int = 3
    tz: str = "Asia/Kolkata"
    webhook_url: str | None = None
    webhook_secret: str | None = None

    def on(self, room: str) -> bool:
        return self.enabled and room in self.rooms


def _row(r: AttendanceRow) -> a.Record:
    return a.Record(room=r.room, date=r.date, participant=r.participant, ms=r.ms, shared=r.shared)


class Attendance:
    def __init__(self, store: Store, clock: Clock, config: AttendanceConfig,
                 load: Callable[[str], Awaitable[RoomState | None]] | None = None) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        # Reads a room's state (for its schedule) when a summary needs it.
        self.load = load

    @property
    def ttl_ms(self) -> int:
        return self.config.retention_days * DAY_MS

    def on(self, room: str) -> bool:
        return self.config.on(room)

    # -- recording ---------------------------------------------------------------------------

    async def after_commit(self, before: RoomState | None, outcome: Outcome, now: int) -> None:
        """Record what this committed transition changed (called once, by the committing
        worker); look for misses when it tells of a scheduled meeting's end."""
        state = outcome.state
        if not self.on(state.id):
            return
        changes = a.changes(before, state, outcome.events)
        if changes:
            schedule = schedule_of(state.schedule) if state.schedule is not None else None
            date = a.meeting_date(schedule, now, self.config.tz)
            for ch in changes:
                await self.store.attendance_record(ch.op, state.id, ch.participant, date, now, self.ttl_ms)
        for n in outcome.notices:
            if n.event == "meeting.ended":
                await self.meeting_ended(state, n, now)

    async def meeting_ended(self, state: RoomState, notice: Notice, now: int) -> None:
        if state.schedule is None:
            return
        schedule = schedule_of(state.schedule)
        since = max(now - self.ttl_ms, state.schedule.updated_at)
        dates: dict[str, list[str]] = defaultdict(list)
        for r in await self.store.attendance_room(state.id, now):
            dates[r.participant].append(r.date)
        calls = []
        for who, seen in sorted(dates.items()):
            missed = a.missed_in_a_row(schedule, seen, since, int(notice.data["start_ms"]))
            if missed != self.config.missed_after:
                continue  # exactly once a streak: when it reaches the count
            if not await self.store.attendance_follow(who, None, now, self.ttl_ms):
                continue
            call_id = f"{state.id}:{notice.data['start_ms']}:{who}"
            calls.append(json.dumps({"id": call_id, "event": MISSED, "data": {
                "room": state.id, "participant_id": who, "missed": missed,
                "last_seen_date": max(seen), "at": now}}, separators=(",", ":")))
        if calls:
            await self.store.add_outbox(calls)
            log.info("attendance misses", extra={"room": state.id, "count": len(calls)})

    # -- a member's own ------------------------------------------------------------------------

    async def mine(self, participant: str, room: str | None = None) -> dict[str, Any]:
        now = self.clock.now_ms()
        rows = [_row(r) for r in await self.store.attendance_of(participant, now)
                if room is None or r.room == room]
        rows.sort(key=lambda r: (r.date, r.room), reverse=True)
        came = of = 0
        since = now - self.ttl_ms
        for rid in sorted({r.room for r in rows} | ({room} if room else set())):
            state = await self.load(rid) if self.load is not None else None
            rec = state.schedule if state is not None else None
            schedule = schedule_of(rec) if rec is not None else None
            c, o = a.summary(schedule, [r.date for r in rows if r.room == rid], now,
                             max(since, rec.updated_at) if rec is not None else since)
            came, of = came + c, of + o
        following = await self.store.attendance_follow(participant, None, now, self.ttl_ms)
        return {"meetings": [r.to_wire() for r in rows[:ROWS_MAX]], "came": came, "of": of,
                "summary": f"came to {came} of the last {of}", "follow_up": following,
                "retention_days": self.config.retention_days}

    async def erase(self, participant: str) -> int:
        return await self.store.attendance_erase(participant)

    async def follow(self, participant: str, on: bool | None) -> bool:
        return await self.store.attendance_follow(participant, on, self.clock.now_ms(), self.ttl_ms)

    # -- the admin API -------------------------------------------------------------------------

    async def room_counts(self, room: str, since: str | None, until: str | None) -> dict[str, Any]:
        """Per meeting date in [since, until] (YYYY-MM-DD, both optional): how many came,
        their minutes in all, how many shared."""
        days: dict[str, dict[str, int]] = {}
        for r in await self.store.attendance_room(room, self.clock.now_ms()):
            if (since and r.date < since) or (until and r.date > until):
                continue
            d = days.setdefault(r.date, {"came": 0, "minutes": 0, "shared": 0})
            d["came"] += 1
            d["minutes"] += r.ms // a.MINUTE_MS
            d["shared"] += int(r.shared)
        return {"room": room, "enabled": self.on(room), "retention_days": self.config.retention_days,
                "meetings": [{"date": k, **v} for k, v in sorted(days.items())]}

    async def of_participant(self, participant: str) -> dict[str, Any]:
        rows = sorted((_row(r) for r in await self.store.attendance_of(participant, self.clock.now_ms())),
                      key=lambda r: (r.date, r.room))
        return {"participant_id": participant, "meetings": [r.to_wire() for r in rows[-ROWS_MAX:]]}

"""A circle that meets weekly: when it opens, its reminders, and staying alive between meetings.

A room's schedule (``RoomState.schedule``) is a ``Recurrence``: the schedule as the admin
API validated it (``server.schedules.Schedule``, kept as its JSON text), whether it is
listed in the public feeds, and two moments the rules keep:

- ``reminded``: the start of the latest meeting whose ``circle.starting`` reminder went
  out. A reminder is a ``Tick`` at the room's deadline like any other timer, so it
  commits once however many workers watch the store, and never twice: the next one looked
  for starts after ``reminded``.
- ``kept_at``: when the schedule last committed. A room is forgotten after a week without
  a commit (``store.keys.ROOM_IDLE_TTL_MS``); a weekly circle may go a week without anyone
  coming (and across a daylight-saving change a week is 7 days and an hour), so the rules
  commit at least once a day while the schedule has meetings ahead.

Members (and guests) may join from a meeting's ``opens_ms`` to its ``end_ms``; staff at
any time, and anyone already in the room or admitted from its lobby stays able to.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from ..schedules import MINUTE_MS, Occurrence, Schedule, is_open, next_occurrence, occurrences
from .model import Recurrence, Target
from .outcome import Tx

DAY_MS: Final = 86_400_000
# The rules commit a scheduled room at least this often (its keys' TTL is a week).
KEEP_ALIVE_MS: Final = DAY_MS
# How far ahead a reminder is looked for: more than a week, so a weekly meeting is found
# across a daylight-saving change, and more than the longest reminder (a day).
_LOOKAHEAD_MS: Final = 9 * DAY_MS


@functools.lru_cache(maxsize=1024)
def _parse(spec: str) -> Schedule:
    return Schedule.from_dict(json.loads(spec))


def schedule_of(rec: Recurrence) -> Schedule:
    return _parse(rec.spec)


def make(schedule: Schedule, public: bool, now: int, before: Recurrence | None) -> Recurrence:
    """A new or changed schedule. A change keeps ``reminded``: a meeting whose reminder
    went out is not reminded again because its title or notes changed."""
    spec = json.dumps(schedule.to_dict(), separators=(",", ":"), sort_keys=True)
    return Recurrence(spec=spec, public=public, updated_at=now, reminded=before.reminded if before else 0,
                      kept_at=now)


def _next_to_remind(rec: Recurrence, now: int) -> Occurrence | None:
    """The first meeting that starts at or after max(now, kept_at) and after ``reminded``."""
    after = max(rec.reminded + 1, rec.kept_at, now)
    found = occurrences(schedule_of(rec), after, after + _LOOKAHEAD_MS)
    return found[0] if found else None


def next_deadline(rec: Recurrence | None) -> int | None:
    """When ``tick`` would change the room: the next reminder, or the daily keep-alive
    (while the schedule has meetings ahead)."""
    if rec is None:
        return None
    schedule = schedule_of(rec)
    if next_occurrence(schedule, rec.kept_at) is None:
        return None  # the schedule has ended: the room may idle out like any other
    times = [rec.kept_at + KEEP_ALIVE_MS]
    nxt = _next_to_remind(rec, rec.kept_at)
    if nxt is not None:
        times.append(nxt.remind_ms)
    return min(times)


def tick(tx: Tx) -> None:
    """Send each reminder that is due (for a meeting that has not started yet: a reminder
    after the start helps nobody), and keep the room alive."""
    rec = tx.state.schedule
    if rec is None:
        return
    schedule = schedule_of(rec)
    reminded = rec.reminded
    for occ in occurrences(schedule, max(rec.reminded + 1, rec.kept_at), tx.now + _LOOKAHEAD_MS):
        if occ.remind_ms > tx.now:
            break
        if occ.start_ms >= tx.now:
            tx.notify("circle.starting", Target("webhook", tx.state.id), {
                "room": tx.state.id, "title": schedule.title, "start_ms": occ.start_ms,
                "opens_ms": occ.opens_ms, "end_ms": occ.end_ms, "at": tx.now,
                "id": f"{tx.state.id}:{occ.start_ms}",
            })
        reminded = occ.start_ms
    if reminded != rec.reminded or tx.now >= rec.kept_at + KEEP_ALIVE_MS:
        tx.state.schedule = dataclasses.replace(rec, reminded=reminded, kept_at=tx.now)
        tx.touch()


def admits(rec: Recurrence | None, now: int) -> bool:
    """Whether a member may come in now: always without a schedule, else while a meeting
    is open (from ``opens_early_min`` before its start to its end)."""
    return rec is None or is_open(schedule_of(rec), now)


def closed_refusal(rec: Recurrence, now: int) -> tuple[str, Mapping[str, Any]]:
    """What a member who comes too early (or late) is told: when the next meeting opens,
    in the schedule's own zone (the client shows ``opens_at`` in the reader's)."""
    schedule = schedule_of(rec)
    nxt = next_occurrence(schedule, now)
    if nxt is None:
        return "this circle has no more meetings", {}
    opens = datetime.fromtimestamp(nxt.opens_ms / 1000, UTC).astimezone(ZoneInfo(schedule.tz))
    return (f"this circle opens at {opens:%H:%M} on {opens:%a %d %b} ({schedule.tz})",
            {"opens_at": nxt.opens_ms, "starts_at": nxt.start_ms})


def view(rec: Recurrence, room: str, now: int) -> dict[str, Any]:
    """The schedule as the admin API shows it: its fields, ``public``, ``updated_ms``,
    whether it is open now and the next (or current) meeting."""
    schedule = schedule_of(rec)
    nxt = next_occurrence(schedule, now)
    return {**schedule.to_dict(), "room": room, "public": rec.public, "updated_ms": rec.updated_at,
            "open": is_open(schedule, now), "next": dataclasses.asdict(nxt) if nxt else None}


__all__ = ["KEEP_ALIVE_MS", "MINUTE_MS", "admits", "closed_refusal", "make", "next_deadline", "schedule_of",
           "tick", "view"]

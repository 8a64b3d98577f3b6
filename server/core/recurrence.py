"""A circle that meets weekly: when it opens, its reminders, and staying alive between meetings.

A room's schedule (``RoomState.schedule``) is a ``Recurrence``: the schedule as the admin
API validated it (``server.schedules.Schedule``, kept as its JSON text), whether it is
listed in the public feeds, when it was set, and ``reminded``: the start of the latest
meeting whose ``circle.starting`` reminder went out. A reminder is a ``Tick`` at the
room's deadline like any other timer, so it commits once however many workers watch the
store, and never twice: the next one looked for starts after ``reminded`` (and not before
the schedule was set).

Members (and guests) may join from a meeting's ``opens_ms`` to its ``end_ms``; staff at
any time, and anyone already in the room or admitted from its lobby stays able to. While
a schedule has meetings ahead, the room is kept alive between them (``room.keep_alive``).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from ..schedules import MINUTE_MS, Schedule, is_open, next_occurrence, occurrences
from .model import Recurrence, Target
from .outcome import Tx

DAY_MS: Final = 86_400_000
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
                      ended=before.ended if before else 0)


def _first_unreminded(rec: Recurrence) -> int:
    """Where the search for the next reminder starts: after the last one sent, and never
    before the schedule was set (its past meetings are no one's to remind)."""
    return max(rec.reminded + 1, rec.updated_at)


def next_deadline(rec: Recurrence | None) -> int | None:
    """When ``tick`` would send the next reminder or tell of the next meeting's end."""
    if rec is None:
        return None
    found = [t for t in (_next_reminder(rec), _next_end(rec)) if t is not None]
    return min(found) if found else None


def _first_unended(rec: Recurrence) -> int:
    """Meetings ending after this are yet to be told of (never one that ended before
    the schedule was set)."""
    return max(rec.ended, rec.updated_at)


@functools.lru_cache(maxsize=1024)
def _next_end(rec: Recurrence) -> int | None:
    schedule = schedule_of(rec)
    after = _first_unended(rec)
    found = [o for o in occurrences(schedule, after - schedule.duration_min * MINUTE_MS, after + _LOOKAHEAD_MS)
             if o.end_ms > after]
    return found[0].end_ms if found else None


# Every commit of a scheduled room asks for its deadlines (a chat message too), and the
# answer depends on the schedule alone: worked out once per schedule and reminder sent.
@functools.lru_cache(maxsize=1024)
def _next_reminder(rec: Recurrence) -> int | None:
    after = _first_unreminded(rec)
    found = occurrences(schedule_of(rec), after, after + _LOOKAHEAD_MS)
    return found[0].remind_ms if found else None


def has_meetings_ahead(rec: Recurrence | None, now: int) -> bool:
    return rec is not None and _meets_after(rec, now)


@functools.lru_cache(maxsize=1024)
def _meets_after(rec: Recurrence, now: int) -> bool:
    return next_occurrence(schedule_of(rec), now) is not None


def tick(tx: Tx) -> None:
    """Send each reminder that is due (for a meeting that has not started yet: a reminder
    after the start helps nobody; one missed while the server was down is skipped)."""
    rec = tx.state.schedule
    if rec is None:
        return
    schedule = schedule_of(rec)
    reminded = rec.reminded
    for occ in occurrences(schedule, _first_unreminded(rec), tx.now + _LOOKAHEAD_MS):
        if occ.remind_ms > tx.now:
            break
        if occ.start_ms >= tx.now:
            tx.notify("circle.starting", Target("webhook", tx.state.id), {
                "room": tx.state.id, "title": schedule.title, "start_ms": occ.start_ms,
                "opens_ms": occ.opens_ms, "end_ms": occ.end_ms, "at": tx.now,
                "id": f"{tx.state.id}:{occ.start_ms}",
            })
        reminded = occ.start_ms
    # Meetings that ended more than the lookahead ago (a schedule set long before, a
    # server down for days) are passed over, not told of one by one.
    ended = rec.ended
    after = max(_first_unended(rec), tx.now - _LOOKAHEAD_MS)
    if after > _first_unended(rec):
        ended = after
    for occ in occurrences(schedule, after - schedule.duration_min * MINUTE_MS, tx.now + 1):
        if after < occ.end_ms <= tx.now:
            # For the committing service only (attendance looks for misses): once, as
            # the reminder is, however many workers tick.
            tx.notify("meeting.ended", Target("service", tx.state.id), {
                "room": tx.state.id, "start_ms": occ.start_ms, "end_ms": occ.end_ms, "date": occ.local_date})
            ended = max(ended, occ.end_ms)
    if reminded != rec.reminded or ended != rec.ended:
        tx.state.schedule = dataclasses.replace(rec, reminded=reminded, ended=ended)
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


__all__ = ["MINUTE_MS", "admits", "closed_refusal", "has_meetings_ahead", "make", "next_deadline", "schedule_of",
           "tick", "view"]

"""Attendance: which meeting a moment belongs to, what a commit changed, and misses.

Pure: no I/O, no clock. The service records what ``changes`` finds in each committed
transition (``server/attendance.py``), so minutes come from committed state, whichever
worker committed it: a participant's connected time opens when the committed state shows
them connected and was not before, and closes when it shows them gone or disconnected.
A reconnect closes one interval and opens the next; the time between is not counted, and
nothing is counted twice or reset.

A *meeting* is the scheduled occurrence that is open at that moment for a circle with a
schedule (its date: the occurrence's local date), else the calendar day in the
deployment's time zone (``[attendance] tz``).

Only ids, dates, milliseconds and a shared flag: never names, never text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal
from zoneinfo import ZoneInfo

from ..schedules import Occurrence, Schedule, next_occurrence, occurrences
from .model import Event, RoomState

MINUTE_MS: Final = 60_000
DAY_MS: Final = 86_400_000
# The events that mean someone shared: they held the floor (an open share or their turn
# in a round, which grants the floor too).
SHARED_EVENTS: Final = frozenset({"floor.granted"})
# How many of a circle's latest meetings the member's summary counts.
SUMMARY_LAST: Final = 8

Op = Literal["open", "close", "share"]


@dataclass(frozen=True)
class Change:
    op: Op
    participant: str


@dataclass(frozen=True)
class Record:
    """One participant at one meeting."""

    room: str
    date: str
    participant: str
    ms: int
    shared: bool

    @property
    def minutes(self) -> int:
        return self.ms // MINUTE_MS

    def to_wire(self) -> dict[str, object]:
        return {"room": self.room, "date": self.date, "minutes": self.minutes, "shared": self.shared}


def meeting_date(schedule: Schedule | None, now: int, tz: str) -> str:
    """The date of the meeting ``now`` belongs to (see the module's docstring). A moment
    outside every occurrence of a scheduled circle (staff early, a late leaver) belongs to
    the nearest occurrence that day, else to the calendar day in the schedule's zone."""
    if schedule is not None:
        occ = next_occurrence(schedule, now)
        if occ is not None and occ.opens_ms <= now < occ.end_ms:
            return occ.local_date
        tz = schedule.tz
    return datetime.fromtimestamp(now / 1000, UTC).astimezone(ZoneInfo(tz)).date().isoformat()


def _present(state: RoomState | None) -> set[str]:
    if state is None or state.ended:
        return set()
    return {pid for pid, p in state.participants.items() if p.connected}


def changes(before: RoomState | None, after: RoomState, events: Sequence[Event]) -> list[Change]:
    """What a committed transition from ``before`` to ``after`` changes in attendance."""
    was, now = _present(before), _present(after)
    out = [Change("close", pid) for pid in sorted(was - now)]
    out += [Change("open", pid) for pid in sorted(now - was)]
    for e in events:
        pid = e.data.get("participant_id")
        if e.type in SHARED_EVENTS and isinstance(pid, str):
            out.append(Change("share", pid))
    return out


def ended_meetings(schedule: Schedule, after_ms: int, now: int) -> list[Occurrence]:
    """The occurrences whose end is in ``(after_ms, now]``, earliest first."""
    longest = schedule.duration_min * MINUTE_MS
    return [o for o in occurrences(schedule, after_ms - longest, now) if after_ms < o.end_ms <= now]


def missed_in_a_row(schedule: Schedule, attended: Iterable[str], since_ms: int, upto_start_ms: int) -> int:
    """How many meetings up to and including ``upto`` were missed since the last one
    attended (``attended``: dates of meetings attended; ``since_ms``: no meeting that
    started before it counts, e.g. the retention window or when the schedule was set)."""
    seen = set(attended)
    past = occurrences(schedule, since_ms, upto_start_ms + 1)
    count = 0
    for occ in reversed(past):
        if occ.local_date in seen:
            break
        count += 1
    return count


def summary(schedule: Schedule | None, dates: Iterable[str], now: int, since_ms: int,
            last: int = SUMMARY_LAST) -> tuple[int, int]:
    """(came, of): of the circle's last ``last`` scheduled meetings that have started
    (since ``since_ms``), how many the member came to; without a schedule, of the
    meetings recorded, all were attended."""
    seen = set(dates)
    if schedule is None:
        return len(seen), len(seen)
    held = [o for o in occurrences(schedule, since_ms, now + 1) if o.start_ms <= now][-last:]
    return sum(1 for o in held if o.local_date in seen), len(held)

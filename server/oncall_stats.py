"""Pages and answer times of the on-call rooms, counted from the audit log.

Pure: ``compute`` takes audit entries and a window and returns the figures; the admin
API reads the entries. What it counts is what ``core/oncall.py`` writes:

- ``oncall.page`` (reason ``tier 1``): a member came into an on-call room with no
  responder there, and the responders on duty were paged; target: the member's id;
- ``oncall.escalate`` (reason ``tier 2: ...``): nobody came in time, everyone was paged;
- ``oncall.answered`` (reason ``waited <N> ms``): a responder came; target: the member.
  A member who arrives while a responder is already there is answered at once with
  ``waited 0 ms`` and no page: that is counted apart (``answered_at_once``), not as a
  page.

A page is *answered* when an ``oncall.answered`` for the same member of the same room
follows it within the window (before that member's next page); its answer time is the
wait that entry records. A page with no answer in the window is *unanswered*: the member
left, is still waiting, or was answered after the window ended. Days are calendar days
in ``tz`` (the centre's), each page counted on the day it was made.

Crisis language in a circle also pages the responders on duty (``oncall.page`` with
``reason: crisis_detected``), but that page is a notice, not an audit entry; the audit
has the alert (``alert.crisis``) instead, and it is not counted here.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from .core.model import AuditEntry

PAGE: Final = "oncall.page"
ESCALATE: Final = "oncall.escalate"
ANSWERED: Final = "oncall.answered"
ACTIONS: Final = (PAGE, ESCALATE, ANSWERED)
DAY_MS: Final = 86_400_000
# The window when none is given, and the longest one asked for: the audit keeps 30 days
# by default, and a quarter is as far as a per-day list is worth reading.
STATS_DEFAULT_MS: Final = 7 * DAY_MS
STATS_MAX_MS: Final = 92 * DAY_MS
_WAITED: Final = re.compile(r"waited ([0-9]+) ms")


def waited_ms(entry: AuditEntry) -> int | None:
    """The wait an ``oncall.answered`` entry records, or None if it has none."""
    m = _WAITED.fullmatch(entry.reason or "")
    return int(m[1]) if m else None


def median(values: list[int]) -> int | None:
    """The middle value (the mean of the two middle ones for an even count, rounded down)."""
    return int(statistics.median(values)) if values else None


def percentile(values: list[int], p: float) -> int | None:
    """The nearest-rank percentile: the smallest value with at least ``p``% at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class _Tally:
    pages: int = 0
    escalations: int = 0
    answered: int = 0
    answered_at_once: int = 0
    waits: list[int] = field(default_factory=list)

    def to_wire(self) -> dict[str, Any]:
        return {"pages": self.pages, "escalations": self.escalations, "answered": self.answered,
                "unanswered": self.pages - self.answered, "answered_at_once": self.answered_at_once,
                "median_answer_ms": median(self.waits), "p90_answer_ms": percentile(self.waits, 90)}


def _day(at: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(at / 1000, UTC).astimezone(zone).date()


def compute(entries: Iterable[AuditEntry], since: int, until: int, tz: str = "Asia/Kolkata") -> dict[str, Any]:
    """The figures of ``[since, until)``: totals and one row per calendar day in ``tz``
    (every day of the window, empty ones too), from the window's audit entries in any
    order. Entries outside the window or of other actions are ignored."""
    zone = ZoneInfo(tz)
    mine = sorted((e for e in entries if e.action in ACTIONS and since <= e.at < until), key=lambda e: e.at)
    total = _Tally()
    days: dict[date, _Tally] = {}
    first, last = _day(since, zone), _day(max(since, until - 1), zone)
    d = first
    while d <= last:
        days[d] = _Tally()
        d += timedelta(days=1)
    # (room, member) -> the day of their page that has not been answered yet
    open_pages: dict[tuple[str, str | None], date] = {}
    for e in mine:
        key = (e.room, e.target)
        day = days[_day(e.at, zone)]
        if e.action == PAGE:
            open_pages[key] = _day(e.at, zone)
            total.pages += 1
            day.pages += 1
        elif e.action == ESCALATE:
            total.escalations += 1
            day.escalations += 1
        else:
            paged_on = open_pages.pop(key, None)
            wait = waited_ms(e)
            if paged_on is None or wait is None:
                if wait == 0:  # a responder was already there
                    total.answered_at_once += 1
                    day.answered_at_once += 1
                continue
            for tally in (total, days[paged_on]):
                tally.answered += 1
                tally.waits.append(wait)
    return {"since": since, "until": until, "tz": tz, **total.to_wire(),
            "days": [{"date": d.isoformat(), **t.to_wire()} for d, t in days.items()]}

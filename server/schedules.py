"""Recurring circles: weekly schedules, their occurrences, reminders and the public feeds.

Pure: no I/O and no clock. Every function that needs the time takes `now_ms` (or a window)
as an argument, in UTC epoch milliseconds. Time zones come from the standard library's
zoneinfo (IANA names); local times are kept across daylight-saving changes, so a circle at
19:00 in Europe/London is at 19:00 local before and after the clocks move.

A local start time that does not exist (inside a spring-forward gap) is read with the
offset before the gap, and one that happens twice (fall-back) is the first of the two, as
RFC 5545 section 3.3.5 says, so `occurrences` and the iCalendar feed agree.

The feeds: `ics` (RFC 5545, one VEVENT with an RRULE per circle) and `meeting_guide` (the
JSON array of the code4recovery Meeting Guide API, one entry per circle and weekday).
See docs/schedules.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo, available_timezones

from icalendar import Calendar, Event
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, model_validator

from moderation.options import path

from .core.model import ROOM_ID_PATTERN

MINUTE_MS: Final = 60_000
DAY_MS: Final = 86_400_000
DEFAULT_TZ: Final = "Asia/Kolkata"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ICS_DAYS: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # index = ISO weekday - 1
_HHMM: Final = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_DATE: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# Meeting Guide type codes look like "O", "12x12", "AL-AN"; the spec lets a feed add its
# own (the importer ignores unknown ones), so the shape is checked, not the list.
_TYPE_CODE: Final = r"^[A-Za-z0-9][A-Za-z0-9-]{0,15}$"
_LANGUAGE: Final = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"
_SLUG_MAX: Final = 64  # the Meeting Guide spec: "It should be 64 characters max"


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def known_zone(tz: str) -> bool:
    """Whether ``tz`` is an IANA time zone this machine knows (schedules, the rota)."""
    return tz in _zones()


# --- the schedule ------------------------------------------------------------------------


class _ScheduleIn(BaseModel):
    """The validation of a schedule; `Schedule` is what the rest of the code holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    room: Annotated[StrictStr, Field(pattern=ROOM_ID_PATTERN)]
    title: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    days: Annotated[tuple[Annotated[StrictInt, Field(ge=1, le=7)], ...], Field(min_length=1, max_length=7)]
    start: Annotated[StrictStr, Field(pattern=_HHMM)]
    duration_min: Annotated[StrictInt, Field(ge=15, le=480)]
    tz: StrictStr = DEFAULT_TZ
    opens_early_min: Annotated[StrictInt, Field(ge=0, le=120)] = 10
    starts_on: Annotated[StrictStr, Field(pattern=_DATE)] | None = None
    ends_on: Annotated[StrictStr, Field(pattern=_DATE)] | None = None
    remind_before_min: Annotated[StrictInt, Field(ge=0, le=1440)] = 60
    types: Annotated[tuple[Annotated[StrictStr, Field(pattern=_TYPE_CODE)], ...], Field(max_length=20)] = ()
    notes: Annotated[StrictStr, Field(max_length=2000)] = ""
    language: Annotated[StrictStr, Field(pattern=_LANGUAGE)] = "en"

    @model_validator(mode="after")
    def _check(self) -> _ScheduleIn:
        if not self.title.strip():
            raise _FieldError("title", "must not be blank")
        if len(set(self.days)) != len(self.days):
            raise _FieldError("days", "must not repeat a day")
        if len(set(self.types)) != len(self.types):
            raise _FieldError("types", "must not repeat a type")
        if not known_zone(self.tz):
            raise _FieldError("tz", f"unknown time zone {self.tz!r} (an IANA name such as 'Asia/Kolkata')")
        first = _parse_date("starts_on", self.starts_on)
        last = _parse_date("ends_on", self.ends_on)
        if first is not None and last is not None and last < first:
            raise _FieldError("ends_on", f"{self.ends_on} is before starts_on {self.starts_on}")
        return self


class _FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _parse_date(field: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _FieldError(field, f"{value!r} is not a real date (YYYY-MM-DD)") from None


def _message(err: ValidationError) -> str:
    """One line naming the field: `schedule.days[1]: Input should be less than or equal to 7`."""
    first = err.errors(include_url=False)[0]
    ctx_error = (first.get("ctx") or {}).get("error")
    if isinstance(ctx_error, _FieldError):
        return f"schedule.{ctx_error}"
    loc = first["loc"]
    return f"schedule.{path(loc)}: {first['msg']}" if loc else f"schedule: {first['msg']}"


@dataclass(frozen=True, slots=True)
class Schedule:
    """A circle that recurs weekly. `days` are ISO weekdays (1 = Monday .. 7 = Sunday), kept sorted."""

    room: str
    title: str
    days: tuple[int, ...]
    start: str
    duration_min: int
    tz: str = DEFAULT_TZ
    opens_early_min: int = 10
    starts_on: str | None = None
    ends_on: str | None = None
    remind_before_min: int = 60
    types: tuple[str, ...] = ()
    notes: str = ""
    language: str = "en"

    def __post_init__(self) -> None:
        try:
            _ScheduleIn.model_validate(self.to_dict())
        except ValidationError as err:
            raise ValueError(_message(err)) from None
        object.__setattr__(self, "days", tuple(sorted(self.days)))
        object.__setattr__(self, "types", tuple(self.types))

    @classmethod
    def from_dict(cls, data: object) -> Schedule:
        """Validate a JSON-shaped mapping; a ValueError names the field at fault."""
        if not isinstance(data, Mapping):
            raise ValueError("schedule: must be an object")
        try:
            valid = _ScheduleIn.model_validate(dict(data))
        except ValidationError as err:
            raise ValueError(_message(err)) from None
        return cls(**valid.model_dump())

    def to_dict(self) -> dict[str, Any]:
        """JSON-shaped (lists, not tuples); `Schedule.from_dict(s.to_dict()) == s`."""
        return {
            "room": self.room,
            "title": self.title,
            "days": list(self.days),
            "start": self.start,
            "duration_min": self.duration_min,
            "tz": self.tz,
            "opens_early_min": self.opens_early_min,
            "starts_on": self.starts_on,
            "ends_on": self.ends_on,
            "remind_before_min": self.remind_before_min,
            "types": list(self.types),
            "notes": self.notes,
            "language": self.language,
        }


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One meeting of a schedule; times in UTC epoch milliseconds."""

    room: str
    local_date: str  # YYYY-MM-DD in the schedule's zone
    start_ms: int
    end_ms: int
    opens_ms: int  # start - opens_early_min
    remind_ms: int  # start - remind_before_min


# --- occurrences --------------------------------------------------------------------------


def _ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _local_date(ms: int, zone: ZoneInfo) -> date:
    return (_EPOCH + timedelta(milliseconds=ms)).astimezone(zone).date()


def _local_start(schedule: Schedule, day: date) -> datetime:
    hour, minute = map(int, schedule.start.split(":"))
    # fold=0: a time in a spring-forward gap uses the offset before the gap, a repeated
    # time is its first instance (RFC 5545 section 3.3.5), as calendar clients do.
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(schedule.tz))


def _bounds(schedule: Schedule) -> tuple[date | None, date | None]:
    first = date.fromisoformat(schedule.starts_on) if schedule.starts_on else None
    last = date.fromisoformat(schedule.ends_on) if schedule.ends_on else None
    return first, last


def _occurrence(schedule: Schedule, day: date) -> Occurrence:
    start = _ms(_local_start(schedule, day))
    return Occurrence(
        room=schedule.room,
        local_date=day.isoformat(),
        start_ms=start,
        end_ms=start + schedule.duration_min * MINUTE_MS,
        opens_ms=start - schedule.opens_early_min * MINUTE_MS,
        remind_ms=start - schedule.remind_before_min * MINUTE_MS,
    )


def _meeting_days(schedule: Schedule, first: date, last: date | None) -> Iterator[date]:
    """The schedule's meeting dates from `first` on (to `last`, or within its own end)."""
    starts_on, ends_on = _bounds(schedule)
    day = max(first, starts_on) if starts_on else first
    stop = min(last, ends_on) if last and ends_on else (last or ends_on)
    while stop is None or day <= stop:
        if day.isoweekday() in schedule.days:
            yield day
        day += timedelta(days=1)


def occurrences(schedule: Schedule, after_ms: int, until_ms: int) -> list[Occurrence]:
    """Every meeting whose start is in [after_ms, until_ms), earliest first."""
    if until_ms <= after_ms:
        return []
    zone = ZoneInfo(schedule.tz)
    # A day either side: a local date's meeting can start on the UTC day before or after.
    first = _local_date(after_ms, zone) - timedelta(days=1)
    last = _local_date(until_ms, zone) + timedelta(days=1)
    found = (_occurrence(schedule, day) for day in _meeting_days(schedule, first, last))
    return sorted((o for o in found if after_ms <= o.start_ms < until_ms), key=lambda o: o.start_ms)


def next_occurrence(schedule: Schedule, now_ms: int) -> Occurrence | None:
    """The meeting in progress at now_ms, or else the next to start; None once the schedule has ended."""
    first = _local_date(now_ms, ZoneInfo(schedule.tz)) - timedelta(days=1)
    for day in _meeting_days(schedule, first, None):
        found = _occurrence(schedule, day)
        if found.end_ms > now_ms:
            return found
        if day > first + timedelta(days=9):  # pragma: no cover - a week always has a meeting day
            break
    return None


def is_open(schedule: Schedule, now_ms: int) -> bool:
    """True from an occurrence's opens_ms (inclusive) to its end_ms (exclusive)."""
    # opens_ms <= now < end_ms  <=>  now - duration < start <= now + opens_early
    after = now_ms - schedule.duration_min * MINUTE_MS + 1
    until = now_ms + schedule.opens_early_min * MINUTE_MS + 1
    return any(o.opens_ms <= now_ms < o.end_ms for o in occurrences(schedule, after, until))


def due_reminders(schedules: Iterable[Schedule], since_ms: int, now_ms: int) -> list[tuple[Schedule, Occurrence]]:
    """Occurrences whose remind_ms is in (since_ms, now_ms], by remind time then room.

    Windows that follow each other ((a, b], then (b, c]) give every reminder exactly once:
    the caller keeps the last `now_ms` it passed and gives it as the next `since_ms`.
    """
    due: list[tuple[Schedule, Occurrence]] = []
    for schedule in schedules:
        lead = schedule.remind_before_min * MINUTE_MS
        # since < start - lead <= now  <=>  since + lead < start <= now + lead
        for found in occurrences(schedule, since_ms + lead + 1, now_ms + lead + 1):
            due.append((schedule, found))
    due.sort(key=lambda pair: (pair[1].remind_ms, pair[0].room))
    return due


# --- the iCalendar feed -------------------------------------------------------------------


def _join_url(base_url: str, room: str) -> str:
    return f"{base_url.rstrip('/')}/#room={room}"


def ics(schedules: Iterable[Schedule], base_url: str, now_ms: int) -> str:
    """An RFC 5545 calendar: one weekly VEVENT per schedule, with the VTIMEZONEs it uses.

    DTSTART is the first meeting on or after `starts_on`, or on or after now's local date
    when the schedule has no `starts_on`; a schedule with no meeting left is left out.
    """
    calendar = Calendar()
    calendar.add("prodid", "-//Circles//Schedules//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    stamp = _EPOCH + timedelta(milliseconds=now_ms)
    earliest: date | None = None
    for schedule in sorted(schedules, key=lambda s: s.room):
        zone = ZoneInfo(schedule.tz)
        starts_on, ends_on = _bounds(schedule)
        anchor = starts_on or _local_date(now_ms, zone)
        first_day = next(_meeting_days(schedule, anchor, None), None)
        if first_day is None:
            continue
        start = _local_start(schedule, first_day)
        rule: dict[str, Any] = {"freq": "weekly", "byday": [_ICS_DAYS[d - 1] for d in schedule.days]}
        if ends_on is not None:
            # UNTIL is in UTC when DTSTART has a TZID (RFC 5545 section 3.3.10); the end of
            # the last local day, so that day's meeting is in.
            last = datetime.combine(ends_on, time(23, 59, 59), tzinfo=zone)
            rule["until"] = last.astimezone(UTC)
        event = Event()
        event.add("uid", f"{schedule.room}@circles")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=schedule.duration_min))
        event.add("rrule", rule)
        event.add("summary", schedule.title)
        event.add("url", _join_url(base_url, schedule.room))
        if schedule.notes:
            event.add("description", schedule.notes)
        calendar.add_component(event)
        earliest = first_day if earliest is None else min(earliest, first_day)
    if earliest is not None:
        # The zones' transitions from a year before the first meeting to ten years from now
        # (the feed is made afresh on each request, so the horizon moves with it).
        horizon = max(earliest, stamp.date()) + timedelta(days=3653)
        calendar.add_missing_timezones(first_date=earliest - timedelta(days=366), last_date=horizon)
    text: str = calendar.to_ical().decode("utf-8")  # CRLF, lines folded at 75 octets
    return text


# --- the Meeting Guide feed ---------------------------------------------------------------


def meeting_guide_day(iso_weekday: int) -> int:
    """ISO (1 = Monday .. 7 = Sunday) to the Meeting Guide spec's 0 = Sunday .. 6 = Saturday."""
    return iso_weekday % 7


def _slug(room: str, day: int) -> str:
    slug = f"{room}-{day}"
    if len(slug) <= _SLUG_MAX:
        return slug
    digest = hashlib.sha256(room.encode()).hexdigest()[:8]
    return f"{room[: _SLUG_MAX - len(digest) - 3].rstrip('-')}-{digest}-{day}"


def _hhmm_after(start: str, minutes: int) -> str:
    hour, minute = map(int, start.split(":"))
    total = (hour * 60 + minute + minutes) % (24 * 60)
    return f"{total // 60:02d}:{total % 60:02d}"


def _utc_text(ms: int) -> str:
    return (_EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%d %H:%M:%S")


def meeting_guide(
    schedules: Iterable[Schedule],
    base_url: str,
    now_ms: int,
    *,
    updated_ms: Mapping[str, int] | None = None,
    formatted_address: str | None = None,
) -> list[dict[str, Any]]:
    """The Meeting Guide JSON feed: one entry per (schedule, weekday), by slug.

    Schedules that have ended (ends_on before now's local date) are left out. `updated` is
    `updated_ms[room]` (when the schedule last changed) or else now. `formatted_address`,
    when given, is the centre's approximate place (a city, "Pune, Maharashtra, India"):
    the spec asks online meetings for one to be listed in the Meeting Guide app, and it is
    sent with `"approximate": "yes"`; no street address is ever sent.
    """
    entries: list[dict[str, Any]] = []
    for schedule in schedules:
        zone = ZoneInfo(schedule.tz)
        starts_on, ends_on = _bounds(schedule)
        today = _local_date(now_ms, zone)
        if ends_on is not None and ends_on < today:
            continue
        notes = schedule.notes
        if starts_on is not None and starts_on > today:
            notes = f"{notes}\n\nFirst meeting: {schedule.starts_on}.".strip()
        if ends_on is not None:
            notes = f"{notes}\n\nLast meeting: on or before {schedule.ends_on}.".strip()
        changed = (updated_ms or {}).get(schedule.room, now_ms)
        for iso_day in schedule.days:
            day = meeting_guide_day(iso_day)
            entry: dict[str, Any] = {
                "name": schedule.title,
                "slug": _slug(schedule.room, day),
                "day": day,
                "time": schedule.start,
                "end_time": _hhmm_after(schedule.start, schedule.duration_min),
                "timezone": schedule.tz,
                "types": list(schedule.types),
                "notes": notes,
                "conference_url": _join_url(base_url, schedule.room),
                "updated": _utc_text(changed),
            }
            if schedule.opens_early_min:
                entry["conference_url_notes"] = f"Opens {schedule.opens_early_min} minutes before the start."
            if formatted_address:
                entry["formatted_address"] = formatted_address
                entry["approximate"] = "yes"
            entries.append(entry)
    entries.sort(key=lambda e: e["slug"])
    return entries

"""Recurring circles (issue 16): validation, occurrences across DST, reminders, the feeds."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from server.schedules import (
    Occurrence,
    Schedule,
    due_reminders,
    ics,
    is_open,
    meeting_guide,
    meeting_guide_day,
    next_occurrence,
    occurrences,
)

MIN = 60_000
DAY = 86_400_000
WEEK = 7 * DAY


def ms(text: str, tz: str = "UTC") -> int:
    """'2026-03-23 19:00' in a zone, as UTC epoch ms."""
    moment = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(tz))
    return int(moment.timestamp()) * 1000


def local(ms_: int, tz: str) -> str:
    return datetime.fromtimestamp(ms_ / 1000, ZoneInfo(tz)).strftime("%Y-%m-%d %a %H:%M")


def sched(**over: Any) -> Schedule:
    base: dict[str, Any] = {"room": "evening", "title": "Evening circle", "days": [1], "start": "19:00",
                            "duration_min": 90}
    base.update(over)
    return Schedule.from_dict(base)


# --- validation -----------------------------------------------------------------------------


def test_defaults_round_trip_and_canonical_days() -> None:
    s = sched(days=[5, 1, 3], types=["O", "EN"], notes="Bring tea.")
    assert s.days == (1, 3, 5) and s.types == ("O", "EN")
    assert (s.tz, s.opens_early_min, s.remind_before_min, s.language) == ("Asia/Kolkata", 10, 60, "en")
    assert s.starts_on is None and s.ends_on is None
    d = s.to_dict()
    assert d["days"] == [1, 3, 5] and d["types"] == ["O", "EN"]
    assert Schedule.from_dict(d) == s
    full = sched(tz="Europe/London", opens_early_min=0, starts_on="2026-01-05", ends_on="2026-01-05",
                 remind_before_min=1440, language="hi")
    assert Schedule.from_dict(full.to_dict()) == full
    assert Schedule(room="evening", title="Evening circle", days=(7, 2), start="06:05", duration_min=15).days == (2, 7)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"room": "Bad Room"}, "room"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"days": []}, "days"),
        ({"days": [0]}, "days[0]"),
        ({"days": [1, 8]}, "days[1]"),
        ({"days": [2, 2]}, "days"),
        ({"days": "1"}, "days"),
        ({"days": [True]}, "days[0]"),
        ({"start": "7:00"}, "start"),
        ({"start": "24:00"}, "start"),
        ({"start": "19:60"}, "start"),
        ({"duration_min": 14}, "duration_min"),
        ({"duration_min": 481}, "duration_min"),
        ({"duration_min": "90"}, "duration_min"),
        ({"duration_min": 90.0}, "duration_min"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"tz": "asia/kolkata"}, "tz"),
        ({"tz": ""}, "tz"),
        ({"opens_early_min": -1}, "opens_early_min"),
        ({"opens_early_min": 121}, "opens_early_min"),
        ({"starts_on": "2026-02-30"}, "starts_on"),
        ({"starts_on": "05/01/2026"}, "starts_on"),
        ({"ends_on": 20260501}, "ends_on"),
        ({"starts_on": "2026-05-02", "ends_on": "2026-05-01"}, "ends_on"),
        ({"remind_before_min": 1441}, "remind_before_min"),
        ({"types": ["O", "O"]}, "types"),
        ({"types": ["O C"]}, "types[0]"),
        ({"types": "O"}, "types"),
        ({"notes": None}, "notes"),
        ({"language": "English"}, "language"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_value_raises_a_value_error_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError) as err:
        sched(**change)
    message = str(err.value)
    assert message.startswith(f"schedule.{field}: "), message
    assert "\n" not in message


def test_messages_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"^schedule\.title: Field required$"):
        Schedule.from_dict({"room": "evening", "days": [1], "start": "19:00", "duration_min": 90})
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        sched(tz="Mars/Olympus")
    with pytest.raises(ValueError, match="2026-05-01 is before starts_on 2026-05-02"):
        sched(starts_on="2026-05-02", ends_on="2026-05-01")
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        sched(colour="blue")
    with pytest.raises(ValueError, match="must be an object"):
        Schedule.from_dict(["evening"])
    with pytest.raises(ValueError, match=r"^schedule\.days: must not repeat a day$"):
        Schedule(room="evening", title="t", days=(1, 1), start="19:00", duration_min=90)


# --- occurrences ------------------------------------------------------------------------------


def test_kolkata_default_zone_and_every_field_of_an_occurrence() -> None:
    s = sched(days=[1, 4], start="19:00", duration_min=90, opens_early_min=15, remind_before_min=30)
    got = occurrences(s, ms("2026-03-02 00:00"), ms("2026-03-09 00:00"))  # Mon 2 .. Sun 8 March
    start = ms("2026-03-02 13:30")  # 19:00 IST = 13:30 UTC
    assert got[0] == Occurrence(room="evening", local_date="2026-03-02", start_ms=start, end_ms=start + 90 * MIN,
                                opens_ms=start - 15 * MIN, remind_ms=start - 30 * MIN)
    assert [o.local_date for o in got] == ["2026-03-02", "2026-03-05"]
    assert got[1].start_ms == ms("2026-03-05 19:00", "Asia/Kolkata")


@pytest.mark.parametrize(
    ("tz", "before", "after", "utc_before", "utc_after"),
    [
        # the UK goes to summer time on 29 March 2026 and back on 25 October 2026
        ("Europe/London", "2026-03-16", "2026-04-13", "19:00", "18:00"),
        ("Europe/London", "2026-10-12", "2026-11-09", "18:00", "19:00"),
        # the US on 8 March and 1 November 2026
        ("America/New_York", "2026-02-23", "2026-03-23", "00:00", "23:00"),
        ("America/New_York", "2026-10-19", "2026-11-16", "23:00", "00:00"),
    ],
)
def test_a_19_00_meeting_stays_19_00_local_across_a_dst_change(
    tz: str, before: str, after: str, utc_before: str, utc_after: str
) -> None:
    s = sched(days=[1], start="19:00", tz=tz)  # Mondays
    got = occurrences(s, ms(f"{before} 00:00", tz), ms(f"{after} 00:00", tz))
    assert len(got) == 4
    assert all(local(o.start_ms, tz).endswith("Mon 19:00") for o in got)
    assert all(local(o.end_ms, tz).endswith("Mon 20:30") for o in got)
    utc = [datetime.fromtimestamp(o.start_ms / 1000, UTC).strftime("%H:%M") for o in got]
    assert utc[0] == utc_before and utc[-1] == utc_after
    # a week apart in UTC except across the change, where it is an hour shorter or longer
    gaps = {b.start_ms - a.start_ms for a, b in pairwise(got)}
    assert WEEK in gaps and len(gaps) == 2 and gaps - {WEEK} <= {WEEK - 3_600_000, WEEK + 3_600_000}


def test_a_time_inside_the_spring_forward_gap_uses_the_offset_before_it() -> None:
    # 01:30 on Sunday 29 March 2026 does not exist in London (01:00 GMT -> 02:00 BST).
    s = sched(days=[7], start="01:30", tz="Europe/London")
    got = occurrences(s, ms("2026-03-22 00:00"), ms("2026-04-06 00:00"))
    assert [o.start_ms for o in got] == [ms("2026-03-22 01:30"), ms("2026-03-29 01:30"), ms("2026-04-05 00:30")]


def test_the_window_is_half_open_and_dates_bound_the_schedule() -> None:
    s = sched(days=[1], tz="UTC", starts_on="2026-03-09", ends_on="2026-03-23")
    start = ms("2026-03-16 19:00")
    assert [o.start_ms for o in occurrences(s, start, start + 1)] == [start]
    assert occurrences(s, start + 1, start + WEEK) == []
    assert occurrences(s, start - WEEK + 1, start) == []
    assert occurrences(s, start, start) == []
    everything = occurrences(s, ms("2026-01-01 00:00"), ms("2027-01-01 00:00"))
    assert [o.local_date for o in everything] == ["2026-03-09", "2026-03-16", "2026-03-23"]


def test_a_meeting_late_in_the_local_day_falls_on_the_next_utc_day() -> None:
    s = sched(days=[1], start="23:30", tz="Pacific/Kiritimati")  # UTC+14: Monday 23:30 is Monday 09:30 UTC
    got = occurrences(s, ms("2026-03-02 00:00"), ms("2026-03-03 00:00"))
    assert [local(o.start_ms, "UTC") for o in got] == ["2026-03-02 Mon 09:30"]
    s = sched(days=[1], start="00:15", tz="Pacific/Pago_Pago")  # UTC-11: Monday 00:15 is Monday 11:15 UTC
    got = occurrences(s, ms("2026-03-02 00:00"), ms("2026-03-03 00:00"))
    assert [local(o.start_ms, "UTC") for o in got] == ["2026-03-02 Mon 11:15"]


def test_next_occurrence_is_the_meeting_in_progress_or_the_next() -> None:
    def next_start(s: Schedule, now: int) -> int | None:
        found = next_occurrence(s, now)
        return None if found is None else found.start_ms

    s = sched(days=[1, 3], tz="UTC")  # Mon and Wed 19:00-20:30
    monday = ms("2026-03-02 19:00")
    assert next_start(s, monday - DAY) == monday
    assert next_start(s, monday) == monday
    assert next_start(s, monday + 89 * MIN) == monday
    assert next_start(s, monday + 90 * MIN) == monday + 2 * DAY
    assert next_start(sched(days=[1], tz="UTC", starts_on="2026-06-01"), monday) == ms("2026-06-01 19:00")
    assert next_start(sched(days=[1], tz="UTC", ends_on="2026-03-02"), monday + 90 * MIN) is None


def test_is_open_from_opens_early_to_the_end() -> None:
    s = sched(days=[1], tz="UTC", opens_early_min=10)
    start = ms("2026-03-02 19:00")
    assert not is_open(s, start - 10 * MIN - 1)
    assert is_open(s, start - 10 * MIN)
    assert is_open(s, start)
    assert is_open(s, start + 90 * MIN - 1)
    assert not is_open(s, start + 90 * MIN)
    assert not is_open(s, start + DAY)
    at_start = sched(days=[1], tz="UTC", opens_early_min=0)
    assert not is_open(at_start, start - 1) and is_open(at_start, start)


# --- reminders --------------------------------------------------------------------------------

REMINDED = [
    sched(room="a", days=[1, 3, 5], start="19:00", tz="Europe/London", remind_before_min=60),
    sched(room="b", days=[7], start="01:30", tz="Europe/London", remind_before_min=0),
    sched(room="c", days=[2], start="06:00", remind_before_min=1440),  # Kolkata, a day ahead
    sched(room="d", days=[6], start="10:00", tz="America/New_York", starts_on="2026-03-14", ends_on="2026-04-04"),
]
SPAN_FROM = ms("2026-03-01 00:00")
SPAN_TO = ms("2026-04-12 00:00")  # six weeks around the European and American changes


def expected_reminders() -> list[tuple[str, int]]:
    wide = [(s.room, o.remind_ms) for s in REMINDED for o in occurrences(s, SPAN_FROM - 2 * DAY, SPAN_TO + 2 * DAY)]
    return sorted((room, r) for room, r in wide if SPAN_FROM < r <= SPAN_TO)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=SPAN_FROM, max_value=SPAN_TO), max_size=40))
def test_consecutive_windows_give_each_reminder_exactly_once(cuts: list[int]) -> None:
    edges = [SPAN_FROM, *sorted(cuts), SPAN_TO]
    seen: list[tuple[str, int]] = []
    for since, now in pairwise(edges):
        for schedule, found in due_reminders(REMINDED, since, now):
            assert since < found.remind_ms <= now
            assert found.room == schedule.room
            seen.append((schedule.room, found.remind_ms))
    assert sorted(seen) == expected_reminders()
    assert len(set(seen)) == len(seen)


def test_reminder_window_bounds_and_order() -> None:
    s = sched(room="a", days=[1], tz="UTC", remind_before_min=60)
    remind = ms("2026-03-02 18:00")
    assert due_reminders([s], remind - 1, remind)[0][1].remind_ms == remind  # now is included
    assert due_reminders([s], remind, remind + MIN) == []  # since is not
    assert due_reminders([s], remind, remind) == []
    t = sched(room="b", days=[1], tz="UTC", start="18:30", remind_before_min=30)
    assert [(x.room, o.remind_ms) for x, o in due_reminders([t, s], remind - DAY, remind)] == [
        ("a", remind),
        ("b", remind),
    ]
    assert len(expected_reminders()) > 20  # the property test above is not vacuous


# --- the iCalendar feed -----------------------------------------------------------------------

BASE = "https://circles.example.org"
NOW = ms("2026-03-10 12:00")
FEED = [
    sched(room="evening", title="Evening circle", days=[1, 3], start="19:00", tz="Europe/London",
          notes="Open to anyone with a desire to stop drinking. " * 3, types=["O", "EN"]),
    sched(room="subah", title="सुबह का सर्कल", days=[7], start="07:30", duration_min=60,
          starts_on="2026-03-01", ends_on="2026-04-19", types=["C", "HI"]),
    sched(room="nyc", title="Night owls", days=[2, 4, 6], start="23:30", tz="America/New_York", duration_min=60),
]


def test_ics_is_crlf_folded_and_parses_with_icalendar() -> None:
    text = ics(FEED, BASE, NOW)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines)  # the long DESCRIPTION was folded
    cal = Calendar.from_ical(text)
    assert str(cal["VERSION"]) == "2.0" and "PRODID" in cal
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"evening@circles", "subah@circles", "nyc@circles"}
    zones = {str(z["TZID"]) for z in cal.walk("VTIMEZONE")}
    assert zones == {"Europe/London", "Asia/Kolkata", "America/New_York"}
    london = next(z for z in cal.walk("VTIMEZONE") if str(z["TZID"]) == "Europe/London")
    assert {str(c.name) for c in london.subcomponents} == {"STANDARD", "DAYLIGHT"}
    e = events["evening@circles"]
    assert str(e["SUMMARY"]) == "Evening circle"
    assert str(e["URL"]) == f"{BASE}/#room=evening"
    assert str(e["DESCRIPTION"]) == FEED[0].notes
    assert e["DTSTART"].params["TZID"] == "Europe/London"
    assert e["DTSTART"].dt.strftime("%Y-%m-%d %H:%M") == "2026-03-11 19:00"  # first meeting on/after now
    assert e["DTEND"].dt - e["DTSTART"].dt == timedelta(minutes=90)
    assert e["DTSTAMP"].dt == datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    rule = e["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["MO", "WE"] and "UNTIL" not in rule
    subah = events["subah@circles"]
    assert "DESCRIPTION" not in subah
    assert subah["DTSTART"].dt.strftime("%Y-%m-%d %H:%M") == "2026-03-01 07:30"  # starts_on, a Sunday
    assert subah["RRULE"]["BYDAY"] == ["SU"]
    until = subah["RRULE"]["UNTIL"][0]
    assert until.tzinfo is not None and until.utcoffset() == timedelta(0)  # UTC, as RFC 5545 asks
    assert until.astimezone(ZoneInfo("Asia/Kolkata")).date() == date(2026, 4, 19)
    assert ics(FEED, BASE, NOW) == text  # stable for the same input


def test_ics_recurrence_expands_to_the_same_meetings_as_occurrences_for_8_weeks() -> None:
    cal = Calendar.from_ical(ics(FEED, BASE, NOW))
    window_end = NOW + 8 * WEEK
    for schedule in FEED:
        event = next(e for e in cal.walk("VEVENT") if str(e["UID"]) == f"{schedule.room}@circles")
        start = event["DTSTART"].dt
        rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start)
        expanded = [int(d.timestamp()) * 1000 for d in rule.between(start, start + timedelta(weeks=9), inc=True)]
        first = int(start.timestamp()) * 1000
        wanted = [o.start_ms for o in occurrences(schedule, first, window_end)]
        assert wanted, schedule.room
        assert [t for t in expanded if t < window_end] == wanted, schedule.room


def test_ics_leaves_out_a_schedule_that_has_ended() -> None:
    done = sched(room="done", days=[1], tz="UTC", ends_on="2026-03-02")
    cal = Calendar.from_ical(ics([done, FEED[0]], BASE, NOW))
    assert [str(e["UID"]) for e in cal.walk("VEVENT")] == ["evening@circles"]
    empty = Calendar.from_ical(ics([], BASE, NOW))
    assert empty.walk("VEVENT") == [] and empty.walk("VTIMEZONE") == []


# --- the Meeting Guide feed -------------------------------------------------------------------
# The spec: github.com/code4recovery/spec, README.md at commit 404117ad (2026-03-06),
# "Field Definitions". Required: `name` (string, 255 max) and `slug` (unique, URL-safe, 64
# max); for weekly meetings `day` (0-6, Sunday = 0, or an array of them) and `time`
# ("HH:MM" 24 h). Online meetings "must have either a `conference_url` and/or
# `conference_phone` field to be considered active". Every other field is optional; the
# list below is the spec's full set of field names, so an entry cannot carry an invented key.

SPEC_FIELDS = frozenset({
    "name", "slug", "day", "time", "end_time", "timezone", "formatted_address", "address", "city", "state",
    "postal_code", "country", "region", "sub_region", "regions", "conference_url", "conference_url_notes",
    "conference_phone", "conference_phone_notes", "types", "notes", "location", "location_notes", "latitude",
    "longitude", "approximate", "updated", "group", "group_notes", "venmo", "square", "paypal",
    "homegroup_online", "url", "edit_url", "feedback_emails", "feedback_url", "entity", "entity_email",
    "entity_location", "entity_logo", "entity_phone", "entity_website_url",
    *(f"contact_{n}_{what}" for n in (1, 2, 3) for what in ("name", "email", "phone")),
})
STREET_FIELDS = frozenset({"address", "city", "state", "postal_code", "country", "location", "latitude", "longitude"})
# data/types.json in the same commit: the codes in use ("ONL" was dropped from the spec in 2022).
SPEC_TYPES = frozenset(
    "11 12x12 A ABSI AF AL AL-AN AM AR ASL B BA BE BG BI BRK C CAN CF D DA DB DD DE DR EL EN FA FI FF FR G GR H HE "
    "HI HR HU IS ITA JA KA KOR L LGBTQ LIT LS LT M MED ML MT N NB NDG NE NL NO O OUT P POA POC POL POR PUN RUS S "
    "SEN SK SL SM SP ST SV T TC TH TL TR TUR UK W X XB XT Y".split()
)
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def check_against_spec(entries: list[dict[str, Any]]) -> None:
    slugs = [e["slug"] for e in entries]
    assert len(set(slugs)) == len(slugs), "slug must be unique to the data set"
    for e in entries:
        assert set(e) <= SPEC_FIELDS, set(e) - SPEC_FIELDS
        assert not set(e) & STREET_FIELDS, "online circles carry no street address"
        assert isinstance(e["name"], str) and 0 < len(e["name"]) <= 255
        assert isinstance(e["slug"], str) and re.fullmatch(r"[a-z0-9-]{1,64}", e["slug"])
        assert type(e["day"]) is int and 0 <= e["day"] <= 6
        assert HHMM.match(e["time"]) and HHMM.match(e["end_time"])
        assert e["timezone"] in {"Asia/Kolkata", "Europe/London", "America/New_York"} and ZoneInfo(e["timezone"])
        assert isinstance(e["types"], list) and all(isinstance(t, str) for t in e["types"])
        assert isinstance(e["notes"], str)
        assert e.get("conference_url") or e.get("conference_phone"), "online meetings need one to be active"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", e["updated"])
        if "approximate" in e:
            assert e["approximate"] in {"yes", "no"} and isinstance(e["formatted_address"], str)


def test_meeting_guide_entries_follow_the_spec() -> None:
    entries = meeting_guide(FEED, BASE, NOW)
    check_against_spec(entries)
    assert all(set(e["types"]) <= SPEC_TYPES for e in entries)
    assert len(entries) == 2 + 1 + 3  # one per (schedule, weekday)
    by_slug = {e["slug"]: e for e in entries}
    assert set(by_slug) == {"evening-1", "evening-3", "subah-0", "nyc-2", "nyc-4", "nyc-6"}
    monday = by_slug["evening-1"]
    assert monday == {
        "name": "Evening circle",
        "slug": "evening-1",
        "day": 1,
        "time": "19:00",
        "end_time": "20:30",
        "timezone": "Europe/London",
        "types": ["O", "EN"],
        "notes": FEED[0].notes,
        "conference_url": f"{BASE}/#room=evening",
        "conference_url_notes": "Opens 10 minutes before the start.",
        "updated": "2026-03-10 12:00:00",
    }
    sunday = by_slug["subah-0"]
    assert sunday["day"] == 0 and sunday["timezone"] == "Asia/Kolkata" and sunday["end_time"] == "08:30"
    assert sunday["notes"] == "Last meeting: on or before 2026-04-19."
    assert by_slug["nyc-6"]["end_time"] == "00:30"  # past midnight


def test_meeting_guide_day_numbering_is_sunday_zero() -> None:
    assert [meeting_guide_day(d) for d in range(1, 8)] == [1, 2, 3, 4, 5, 6, 0]


def test_meeting_guide_updated_address_and_dates() -> None:
    later = sched(room="later", days=[2], starts_on="2026-06-02", opens_early_min=0)
    ended = sched(room="ended", days=[2], ends_on="2026-03-03")
    entries = meeting_guide([later, ended], BASE, NOW, updated_ms={"later": ms("2026-02-01 08:30")},
                            formatted_address="Pune, Maharashtra, India")
    check_against_spec(entries)
    assert [e["slug"] for e in entries] == ["later-2"]
    e = entries[0]
    assert e["updated"] == "2026-02-01 08:30:00"
    assert e["formatted_address"] == "Pune, Maharashtra, India" and e["approximate"] == "yes"
    assert e["notes"] == "First meeting: 2026-06-02."
    assert "conference_url_notes" not in e


def test_meeting_guide_slugs_stay_within_64_characters_and_unique() -> None:
    long_a = sched(room="a" * 64, days=[1, 2])
    long_b = sched(room="a" * 63 + "b", days=[1, 2])
    entries = meeting_guide([long_a, long_b], BASE, NOW)
    check_against_spec(entries)
    assert len(entries) == 4

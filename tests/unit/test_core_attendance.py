"""Attendance in the pure core (issue 19): which meeting a moment belongs to, what a
committed transition opens and closes, misses in a row, the summary, and the scheduled
meeting's end told once."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from server.core import attendance as a
from server.core import commands as c
from server.core.model import RoomState, Settings
from server.core.rules import apply, next_deadline
from server.schedules import Schedule

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


TUE = ms("2026-12-08T13:30:00")  # Tuesday 19:00 in Kolkata
SAT = ms("2026-12-05T12:00:00")
MINA = c.Actor("m-mina", "Mina", "member", "w:m")
RAVI = c.Actor("m-ravi", "Ravi", "member", "w:r")
WEEKLY = Schedule.from_dict({"room": "tuesday", "title": "Tuesday circle", "days": [2], "start": "19:00",
                             "duration_min": 90})


def room() -> RoomState:
    return RoomState(id="daily", kind="circle", settings=Settings(), created_at=SAT)


def test_a_meeting_is_the_open_occurrence_or_the_local_day() -> None:
    assert a.meeting_date(WEEKLY, TUE + 30 * MIN, "UTC") == "2026-12-08"
    assert a.meeting_date(WEEKLY, TUE - 10 * MIN, "UTC") == "2026-12-08", "open early counts"
    # No schedule: the calendar day in the deployment's zone (past midnight in Kolkata).
    assert a.meeting_date(None, ms("2026-12-05T19:00:00"), "Asia/Kolkata") == "2026-12-06"
    assert a.meeting_date(None, ms("2026-12-05T19:00:00"), "UTC") == "2026-12-05"


def test_changes_open_on_connect_close_on_disconnect_and_never_twice() -> None:
    s0 = room()
    joined = apply(s0, MINA, c.Join(), SAT)
    assert a.changes(s0, joined.state, joined.events) == [a.Change("open", "m-mina")]
    again = apply(joined.state, MINA, c.Join(), SAT + MIN)
    assert a.changes(joined.state, again.state, again.events) == [], "a second join opens nothing"
    gone = apply(again.state, MINA, c.Disconnect(), SAT + 2 * MIN)
    assert a.changes(again.state, gone.state, gone.events) == [a.Change("close", "m-mina")]
    back = apply(gone.state, MINA, c.Join(), SAT + 3 * MIN)
    assert a.changes(gone.state, back.state, back.events) == [a.Change("open", "m-mina")]
    ended = dataclasses.replace(back.state, ended=True)
    assert a.changes(back.state, ended, ()) == [a.Change("close", "m-mina")]


def test_misses_in_a_row_count_back_to_the_last_meeting_attended() -> None:
    weeks = [TUE + i * 7 * DAY for i in range(5)]
    assert a.missed_in_a_row(WEEKLY, ["2026-12-08"], SAT, weeks[3]) == 3
    assert a.missed_in_a_row(WEEKLY, ["2026-12-08", "2026-12-22"], SAT, weeks[3]) == 1
    assert a.missed_in_a_row(WEEKLY, ["2026-12-29"], SAT, weeks[3]) == 0


def test_the_summary_counts_the_circles_last_meetings() -> None:
    now = TUE + 4 * 7 * DAY + HOUR  # the fifth Tuesday is on
    assert a.summary(WEEKLY, ["2026-12-08", "2027-01-05"], now, SAT) == (2, 5)
    assert a.summary(WEEKLY, ["2026-12-08"], now, SAT, last=3) == (0, 3)
    assert a.summary(None, ["2026-12-05", "2026-12-06"], now, SAT) == (2, 2)


def test_a_scheduled_meetings_end_is_told_once_to_the_service() -> None:
    s = apply(dataclasses.replace(room(), id="tuesday"), c.SYSTEM, c.ScheduleSet(WEEKLY, False), SAT).state
    end = TUE + 90 * MIN
    at = SAT
    told = []
    for _ in range(10):  # follow the room's deadlines to just past the meeting's end
        due = next_deadline(s)
        assert due is not None
        if due > end + HOUR:
            break
        at = due
        out = apply(s, c.SYSTEM, c.Tick(), at)
        told += [n for n in out.notices if n.event == "meeting.ended"]
        s = out.state
    assert [(n.to.kind, n.data["start_ms"], n.data["date"]) for n in told] == [("service", TUE, "2026-12-08")]
    assert s.schedule is not None and s.schedule.ended == end

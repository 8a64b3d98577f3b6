"""A circle's weekly schedule in the pure core: who may come in when, its reminders (each
exactly once, none after the start), the daily keep-alive, and the public door."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.core import commands as c
from server.core.errors import CommandError
from server.core.model import KEEP_ALIVE_MS, RoomState, Settings
from server.core.rules import apply, next_deadline
from server.schedules import Schedule

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


# Tuesdays and Fridays at 19:00 in Kolkata (13:30 UTC): opens 10 min early, reminder 60 min before.
TUE = ms("2026-12-08T13:30:00")  # Tuesday 8 December 2026, 19:00 IST
FRI = ms("2026-12-11T13:30:00")
SAT_BEFORE = ms("2026-12-05T12:00:00")
MINA = c.Actor("mina", "Mina", "member", "w:m")
GUEST = c.Actor("g-1", "Guest", "member", "w:g", guest=True)
FAC = c.Actor("fac", "Fatima", "facilitator", "w:f")


def weekly(**over: object) -> Schedule:
    fields: dict[str, object] = {"room": "tuesday", "title": "Tuesday circle", "days": [2, 5], "start": "19:00",
                                 "duration_min": 90}
    fields.update(over)
    return Schedule.from_dict(fields)


def scheduled(at: int = SAT_BEFORE, public: bool = False, **over: object) -> RoomState:
    room = RoomState(id="tuesday", kind="circle", settings=Settings(), created_at=at)
    return apply(room, c.SYSTEM, c.ScheduleSet(weekly(**over), public), at).state


def test_a_member_comes_in_only_while_the_circle_is_open() -> None:
    s = scheduled()
    with pytest.raises(CommandError) as e:
        apply(s, MINA, c.Join(), TUE - 11 * MIN)
    assert e.value.code == "locked"
    assert e.value.extra == {"opens_at": TUE - 10 * MIN, "starts_at": TUE}
    assert "18:50" in e.value.message and "Asia/Kolkata" in e.value.message
    assert "mina" in apply(s, MINA, c.Join(), TUE - 10 * MIN).state.participants
    assert "mina" in apply(s, MINA, c.Join(), TUE + 89 * MIN).state.participants
    with pytest.raises(CommandError):
        apply(s, MINA, c.Join(), TUE + 90 * MIN)
    # A guest from a group link is told the same, not put in the lobby to wait for days.
    with pytest.raises(CommandError) as g:
        apply(s, GUEST, c.Join(), TUE - HOUR)
    assert g.value.code == "locked"


def test_staff_come_in_any_time_and_members_inside_stay_after_the_end() -> None:
    s = scheduled()
    assert "fac" in apply(s, FAC, c.Join(), SAT_BEFORE).state.participants
    inside = apply(s, MINA, c.Join(), TUE).state
    dropped = apply(inside, MINA, c.Disconnect(), TUE + 95 * MIN).state
    # The meeting ran over; Mina's phone reconnects after the scheduled end: she is back.
    assert apply(dropped, MINA, c.Join(), TUE + 96 * MIN).state.participants["mina"].connected


def test_without_a_schedule_the_circle_is_always_open() -> None:
    s = apply(scheduled(), c.SYSTEM, c.ScheduleClear(), SAT_BEFORE).state
    assert s.schedule is None
    assert "mina" in apply(s, MINA, c.Join(), SAT_BEFORE).state.participants
    with pytest.raises(CommandError) as e:
        apply(s, c.SYSTEM, c.ScheduleClear(), SAT_BEFORE)
    assert e.value.code == "not_found"


def test_only_staff_set_a_schedule_and_never_on_an_oncall_room() -> None:
    room = RoomState(id="tuesday", kind="circle", settings=Settings(), created_at=SAT_BEFORE)
    joined = apply(room, MINA, c.Join(), SAT_BEFORE).state
    with pytest.raises(CommandError) as e:
        apply(joined, MINA, c.ScheduleSet(weekly()), SAT_BEFORE)
    assert e.value.code == "forbidden"
    oncall = RoomState(id="tuesday", kind="oncall", settings=Settings(), created_at=SAT_BEFORE)
    with pytest.raises(CommandError) as o:
        apply(oncall, c.SYSTEM, c.ScheduleSet(weekly()), SAT_BEFORE)
    assert o.value.code == "invalid" and "always open" in o.value.message
    with pytest.raises(CommandError):
        apply(room, c.SYSTEM, c.ScheduleSet(weekly(room="other")), SAT_BEFORE)


def reminders(outcome_notices: tuple[object, ...]) -> list[dict[str, object]]:
    return [dict(n.data) for n in outcome_notices  # type: ignore[attr-defined]
            if n.event == "circle.starting"]  # type: ignore[attr-defined]


def run_timers(s: RoomState, until: int) -> tuple[RoomState, list[dict[str, object]]]:
    """Fire the room's timers as the scheduler would, up to ``until``: every reminder sent."""
    sent: list[dict[str, object]] = []
    while (due := next_deadline(s)) is not None and due <= until:
        o = apply(s, c.SYSTEM, c.Tick(), due)
        assert o.changed, "a deadline that changes nothing would fire forever"
        s = o.state
        sent += reminders(o.notices)
    return s, sent


def test_each_meeting_is_reminded_once_at_its_time() -> None:
    s, sent = run_timers(scheduled(), FRI)
    assert sent == [
        {"room": "tuesday", "title": "Tuesday circle", "start_ms": TUE, "opens_ms": TUE - 10 * MIN,
         "end_ms": TUE + 90 * MIN, "at": TUE - HOUR, "id": f"tuesday:{TUE}"},
        {"room": "tuesday", "title": "Tuesday circle", "start_ms": FRI, "opens_ms": FRI - 10 * MIN,
         "end_ms": FRI + 90 * MIN, "at": FRI - HOUR, "id": f"tuesday:{FRI}"},
    ]
    # A tick again (another worker, a retry) reminds nobody twice.
    assert reminders(apply(s, c.SYSTEM, c.Tick(), FRI).notices) == []


def test_a_reminder_goes_to_the_webhook_only() -> None:
    o = apply(scheduled(), c.SYSTEM, c.Tick(), TUE - HOUR)
    assert [(n.event, n.to.kind) for n in o.notices] == [("circle.starting", "webhook")]
    assert not apply(o.state, c.SYSTEM, c.Tick(), TUE - HOUR + 5).changed


def test_a_reminder_is_not_sent_once_the_meeting_has_started() -> None:
    s = scheduled()
    # The server was down from before the reminder until after the start.
    o = apply(s, c.SYSTEM, c.Tick(), TUE + MIN)
    assert reminders(o.notices) == []
    _, sent = run_timers(o.state, FRI)
    assert [r["start_ms"] for r in sent] == [FRI]  # Tuesday's counts as passed
    # Back late but before the start: better late than never.
    late = apply(s, c.SYSTEM, c.Tick(), TUE - 5 * MIN)
    assert [r["start_ms"] for r in reminders(late.notices)] == [TUE]


def test_a_schedule_set_after_the_reminder_time_reminds_at_once() -> None:
    s = scheduled(at=TUE - 30 * MIN)
    assert next_deadline(s) == TUE - HOUR  # already due: the scheduler fires it now
    assert [r["start_ms"] for r in reminders(apply(s, c.SYSTEM, c.Tick(), TUE - 30 * MIN).notices)] == [TUE]


def test_changing_the_schedule_does_not_repeat_a_sent_reminder() -> None:
    s = apply(scheduled(), c.SYSTEM, c.Tick(), TUE - HOUR).state
    changed = apply(s, c.SYSTEM, c.ScheduleSet(weekly(notes="bring tea")), TUE - 30 * MIN).state
    assert reminders(apply(changed, c.SYSTEM, c.Tick(), TUE - 29 * MIN).notices) == []


def test_a_weekly_room_commits_daily_so_it_is_never_forgotten_between_meetings() -> None:
    s = scheduled(days=[7], start="09:00", remind_before_min=0)  # Sundays only
    t = SAT_BEFORE
    commits = 0
    while t < SAT_BEFORE + 15 * DAY:  # two weeks with nobody coming
        due = next_deadline(s)
        assert due is not None and due - t <= KEEP_ALIVE_MS, "never a week without a commit"
        t = due
        o = apply(s, c.SYSTEM, c.Tick(), t)
        assert o.changed
        s, commits = o.state, commits + 1
    assert commits >= 15


def test_an_ended_schedule_stops_keeping_the_room() -> None:
    s = scheduled(starts_on="2026-11-01", ends_on="2026-12-01")
    assert next_deadline(s) is None


def test_the_door_of_a_public_circle() -> None:
    hidden = scheduled()
    with pytest.raises(CommandError) as e:
        apply(hidden, c.SYSTEM, c.Knock(), TUE)
    assert e.value.code == "not_found"
    listed = scheduled(public=True)
    with pytest.raises(CommandError) as closed:
        apply(listed, c.SYSTEM, c.Knock(), TUE - HOUR)
    assert closed.value.code == "locked" and closed.value.extra["opens_at"] == TUE - 10 * MIN
    o = apply(listed, c.SYSTEM, c.Knock(), TUE)
    assert [a.action for a in o.audit] == ["schedule.knock"]


def test_the_schedule_survives_the_store_round_trip() -> None:
    s = apply(scheduled(public=True), c.SYSTEM, c.Tick(), TUE - HOUR).state
    back = RoomState.from_dict(s.to_dict())
    assert back.schedule == s.schedule and back.schedule is not None and back.schedule.public
    assert next_deadline(back) == next_deadline(s)


def test_a_room_with_a_live_group_link_is_kept_until_the_link_expires() -> None:
    room = RoomState(id="tuesday", kind="circle", settings=Settings(), created_at=SAT_BEFORE)
    assert next_deadline(room) is None  # nothing to keep it for: it may idle out
    expires = SAT_BEFORE + 20 * DAY
    s = apply(room, c.SYSTEM, c.InviteCreate(id="i1", code_hash="h", expires_at=expires), SAT_BEFORE).state
    commits = []
    while (due := next_deadline(s)) is not None:
        assert due - max(s.kept_at, s.created_at) <= KEEP_ALIVE_MS
        o = apply(s, c.SYSTEM, c.Tick(), due)
        assert o.changed
        s = o.state
        commits.append(due)
    # A commit a day while the link works (never a week without one), none after: the
    # last is within a day of the expiry, so the store keeps the room past it.
    assert len(commits) == 19 and expires - KEEP_ALIVE_MS <= commits[-1] < expires
    assert max(b - a for a, b in zip([SAT_BEFORE, *commits], commits, strict=False)) == KEEP_ALIVE_MS

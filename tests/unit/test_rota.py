"""The on-call rota (server/rota.py): what a coordinator may write, and who it expects when."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from server.rota import SHIFTS_MAX, Shift, expected_at, from_stored, parse_rota

IST = ZoneInfo("Asia/Kolkata")


def ms(year: int, month: int, day: int, hour: int, minute: int = 0, tz: ZoneInfo = IST) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=tz).timestamp() * 1000)


def shift(**over: Any) -> dict[str, Any]:
    return {"responder": "dev", "name": "Dev", "days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00", **over}


def refused(body: Any) -> str:
    with pytest.raises(ValueError) as e:
        parse_rota(body)
    return str(e.value)


def test_a_valid_rota_is_kept_with_its_defaults() -> None:
    [s] = parse_rota({"shifts": [shift(days=[5, 1, 3], name="  Dev  K ")]})
    assert s == Shift(responder="dev", name="Dev K", days=(1, 3, 5), start="09:00", end="17:00", tz="Asia/Kolkata")
    assert from_stored([s.to_wire()]) == (s,)
    assert parse_rota({"shifts": []}) == ()


@pytest.mark.parametrize(("body", "message"), [
    ({"shifts": [shift(start="9:00")]}, "shifts[0].start: must be a time HH:MM, from 00:00 to 23:59"),
    ({"shifts": [shift(), shift(end="24:00")]}, "shifts[1].end: must be a time HH:MM, from 00:00 to 23:59"),
    ({"shifts": [shift(days=[1, 8])]}, "shifts[0].days[1]: Input should be less than or equal to 7"),
    ({"shifts": [shift(days=[0])]}, "shifts[0].days[0]: Input should be greater than or equal to 1"),
    ({"shifts": [shift(days=[])]}, "shifts[0].days: List should have at least 1 item after validation, not 0"),
    ({"shifts": [shift(days=[2, 2])]}, "shifts[0].days: must not repeat a day"),
    ({"shifts": [shift(days=["1"])]}, "shifts[0].days[0]: Input should be a valid integer"),
    ({"shifts": [shift(tz="India/Delhi")]}, "shifts[0].tz: unknown time zone 'India/Delhi'"),
    ({"shifts": [shift(responder="dev kumar")]}, "shifts[0].responder: must be a participant id"),
    ({"shifts": [shift(name="")]}, "shifts[0].name: must be 1-40 characters"),
    ({"shifts": [shift(name="x" * 41)]}, "shifts[0].name: must be 1-40 characters"),
    ({"shifts": [shift(phone="98...")]}, "shifts[0].phone: Extra inputs are not permitted"),
    ({"shifts": [{k: v for k, v in shift().items() if k != "end"}]}, "shifts[0].end: Field required"),
    ({"shift": []}, "shifts: Field required"),
    ([], "body: Input should be a valid dictionary"),
    ({"shifts": [shift()] * (SHIFTS_MAX + 1)}, "shifts: List should have at most 200 items"),
])
def test_a_bad_rota_is_refused_naming_the_field(body: Any, message: str) -> None:
    assert refused(body).startswith(message)


def test_a_day_shift_covers_its_hours_on_its_days_only() -> None:
    shifts = parse_rota({"shifts": [shift()]})
    # 2026-03-02 is a Monday.
    assert [e.index for e in expected_at(shifts, ms(2026, 3, 2, 9, 0))] == [0]  # the start is in
    assert expected_at(shifts, ms(2026, 3, 2, 16, 59))
    assert not expected_at(shifts, ms(2026, 3, 2, 17, 0))  # the end is out
    assert not expected_at(shifts, ms(2026, 3, 2, 8, 59))
    assert not expected_at(shifts, ms(2026, 3, 7, 12, 0))  # a Saturday
    [e] = expected_at(shifts, ms(2026, 3, 4, 12, 0))
    assert (e.starts_at, e.ends_at) == (ms(2026, 3, 4, 9), ms(2026, 3, 4, 17))


def test_a_night_shift_runs_into_the_next_day() -> None:
    # Fridays 22:00 to Saturday 06:00 only.
    shifts = parse_rota({"shifts": [shift(days=[5], start="22:00", end="06:00")]})
    assert not expected_at(shifts, ms(2026, 3, 6, 21, 59))
    assert expected_at(shifts, ms(2026, 3, 6, 23, 30))
    [e] = expected_at(shifts, ms(2026, 3, 7, 5, 59))  # Saturday morning: Friday's turn
    assert (e.day, e.starts_at, e.ends_at) == (5, ms(2026, 3, 6, 22), ms(2026, 3, 7, 6))
    assert not expected_at(shifts, ms(2026, 3, 7, 6, 0))
    assert not expected_at(shifts, ms(2026, 3, 7, 23, 0))  # Saturday night is not a turn


def test_the_same_start_and_end_is_a_whole_day() -> None:
    shifts = parse_rota({"shifts": [shift(days=[1, 2, 3, 4, 5, 6, 7], start="00:00", end="00:00")]})
    for hour in range(24):
        assert expected_at(shifts, ms(2026, 3, 2, hour, 30)), hour


def test_each_shift_keeps_its_own_time_zone_across_a_clock_change() -> None:
    # 09:00-10:00 in London on Mondays: 09:00 UTC in winter, 08:00 UTC in summer.
    shifts = parse_rota({"shifts": [shift(days=[1], start="09:00", end="10:00", tz="Europe/London")]})
    utc = ZoneInfo("UTC")
    assert expected_at(shifts, ms(2026, 3, 23, 9, 30, utc))  # before the clocks go forward (29 March)
    assert not expected_at(shifts, ms(2026, 3, 30, 9, 30, utc))
    assert expected_at(shifts, ms(2026, 3, 30, 8, 30, utc))
    # A Kolkata shift at the same UTC moment is another local hour.
    ist = parse_rota({"shifts": [shift(days=[1], start="14:00", end="15:00")]})
    assert expected_at(ist, ms(2026, 3, 30, 8, 45, utc))  # 14:15 in Kolkata


def test_two_shifts_at_once_are_both_expected_in_rota_order() -> None:
    shifts = parse_rota({"shifts": [shift(responder="a", name="A"), shift(responder="b", name="B", start="12:00")]})
    now = int(datetime(2026, 3, 2, 7, 0, tzinfo=UTC).timestamp() * 1000)  # 12:30 in Kolkata
    assert [e.shift.responder for e in expected_at(shifts, now)] == ["a", "b"]

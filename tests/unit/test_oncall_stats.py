"""Pages and answer times from the audit log (server/oncall_stats.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from server.core.model import AuditEntry
from server.oncall_stats import compute, median, percentile, waited_ms

IST = ZoneInfo("Asia/Kolkata")
DAY = 86_400_000


def at(day: int, hour: int, minute: int = 0) -> int:
    return int(datetime(2026, 3, day, hour, minute, tzinfo=IST).timestamp() * 1000)


def page(t: int, who: str, room: str = "oncall") -> AuditEntry:
    return AuditEntry(at=t, room=room, actor=None, action="oncall.page", target=who, reason="tier 1")


def escalate(t: int, who: str, room: str = "oncall") -> AuditEntry:
    return AuditEntry(at=t, room=room, actor=None, action="oncall.escalate", target=who,
                      reason="tier 2: no responder within 60 s")


def answer(t: int, who: str, waited: int, room: str = "oncall") -> AuditEntry:
    return AuditEntry(at=t, room=room, actor="dev", action="oncall.answered", target=who, reason=f"waited {waited} ms")


def test_median_and_nearest_rank_percentile() -> None:
    assert median([]) is None and percentile([], 90) is None
    assert median([5]) == 5 and percentile([5], 90) == 5
    assert median([1, 3, 10]) == 3
    assert median([1, 2, 3, 10]) == 2  # (2 + 3) / 2, rounded down
    values = list(range(1, 11))  # 1..10
    assert percentile(values, 90) == 9 and percentile(values, 100) == 10 and percentile(values, 50) == 5
    assert percentile([30, 10, 20], 90) == 30  # order does not matter


def test_waited_is_read_from_the_reason_only_when_it_has_that_shape() -> None:
    assert waited_ms(answer(0, "m", 4200)) == 4200
    assert waited_ms(AuditEntry(0, "r", None, "oncall.answered", "m", None)) is None
    assert waited_ms(AuditEntry(0, "r", None, "oncall.answered", "m", "waited soon")) is None


def test_pages_answers_escalations_and_answer_times() -> None:
    since, until = at(2, 0), at(4, 0)  # Monday and Tuesday, Kolkata time
    entries = [
        # Monday: Asha waits 30 s; Ravi waits 3 min (escalated at 1 min); Mina leaves unanswered.
        page(at(2, 10), "asha"), answer(at(2, 10) + 30_000, "asha", 30_000),
        page(at(2, 23, 58), "ravi"), escalate(at(2, 23, 59), "ravi"),
        answer(at(3, 0, 1), "ravi", 180_000),  # answered after midnight: still Monday's page
        page(at(2, 12), "mina"),
        # Tuesday: Asha again (a new page, answered in 10 s); someone answered at once
        # (a responder was there: no page); another room's page, answered.
        page(at(3, 9), "asha"), answer(at(3, 9) + 10_000, "asha", 10_000),
        answer(at(3, 11), "gita", 0),
        page(at(3, 15), "kiran", room="oncall-2"), answer(at(3, 15) + 90_000, "kiran", 90_000, room="oncall-2"),
        # Other actions and entries outside the window are not counted.
        AuditEntry(at(3, 16), "oncall", "dev", "mute", "kiran", None),
        page(at(1, 23), "early"), page(at(4, 0), "late"), answer(at(4, 1), "late", 5_000),
    ]
    stats = compute(list(reversed(entries)), since, until)
    assert {k: stats[k] for k in ("pages", "escalations", "answered", "unanswered", "answered_at_once")} == {
        "pages": 5, "escalations": 1, "answered": 4, "unanswered": 1, "answered_at_once": 1}
    # Waits 30 s, 180 s, 10 s, 90 s: median (30 + 90) / 2 = 60 s; 90th percentile 180 s.
    assert stats["median_answer_ms"] == 60_000 and stats["p90_answer_ms"] == 180_000
    monday, tuesday = stats["days"]
    assert monday == {"date": "2026-03-02", "pages": 3, "escalations": 1, "answered": 2, "unanswered": 1,
                      "answered_at_once": 0, "median_answer_ms": 105_000, "p90_answer_ms": 180_000}
    assert tuesday == {"date": "2026-03-03", "pages": 2, "escalations": 0, "answered": 2, "unanswered": 0,
                       "answered_at_once": 1, "median_answer_ms": 50_000, "p90_answer_ms": 90_000}
    assert (stats["since"], stats["until"], stats["tz"]) == (since, until, "Asia/Kolkata")


def test_every_day_of_the_window_is_listed_even_a_quiet_one() -> None:
    stats = compute([], at(2, 12), at(5, 12))
    assert [d["date"] for d in stats["days"]] == ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
    assert stats["pages"] == 0 and stats["median_answer_ms"] is None and stats["p90_answer_ms"] is None
    # The days are the centre's: 20:00 UTC on the 2nd is already the 3rd in Kolkata.
    utc_evening = int(datetime(2026, 3, 2, 20, 0, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
    one = compute([page(utc_evening, "m")], utc_evening, utc_evening + 1000)
    assert [(d["date"], d["pages"]) for d in one["days"]] == [("2026-03-03", 1)]
    assert compute([page(utc_evening, "m")], utc_evening, utc_evening + 1000, tz="UTC")["days"][0]["date"] == \
        "2026-03-02"


def test_an_answer_whose_page_is_before_the_window_is_not_counted() -> None:
    entries = [page(at(2, 23, 59), "m"), answer(at(3, 0, 1), "m", 120_000)]
    stats = compute(entries, at(3, 0), at(4, 0))
    assert (stats["pages"], stats["answered"], stats["answered_at_once"]) == (0, 0, 0)


def test_a_page_answered_with_no_wait_is_an_answered_page() -> None:
    # A responder who comes in the same millisecond (a hand-driven clock in tests).
    stats = compute([page(at(2, 10), "m"), answer(at(2, 10), "m", 0)], at(2, 0), at(3, 0))
    assert (stats["answered"], stats["answered_at_once"], stats["median_answer_ms"]) == (1, 0, 0)

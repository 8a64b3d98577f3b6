"""The soak's invariant checker finds each kind of violation it claims to (a checker that
cannot fail would make the soak's zero meaningless)."""

from __future__ import annotations

import json
from typing import Any

from bench.soak_check import Record, Visit, check_acked, check_escalations, check_floor, check_logs


def fp(type_: str, **data: Any) -> tuple[str, Any, str]:
    return (type_, None, json.dumps(data, sort_keys=True))


def rec(name: str, log: dict[int, tuple[str, Any, str]], sessions: list[list[int]] | None = None) -> Record:
    r = Record(name, "r")
    r.log = dict(log)
    r.sessions = sessions if sessions is not None else [sorted(log)]
    return r


def test_consistent_logs_pass_and_each_kind_of_divergence_is_found() -> None:
    a = rec("a", {1: fp("reaction"), 2: fp("reaction"), 3: fp("hand.raised")})
    b = rec("b", {2: fp("reaction"), 3: fp("hand.raised")})  # a later join: a prefix is fine
    assert check_logs([a, b]) == []
    other = rec("c", {3: fp("hand.lowered")})
    assert any("seq 3" in v for v in check_logs([a, other]))
    gap = rec("d", {1: fp("reaction"), 3: fp("hand.raised")}, [[1], [3]])
    assert any("gap" in v for v in check_logs([gap]))
    twice = rec("e", {1: fp("reaction"), 2: fp("reaction")}, [[1, 2, 2]])
    assert any("then 2" in v for v in check_logs([twice]))
    reset = rec("f", {1: fp("reaction")})
    reset.resets = 1
    assert any("reset" in v for v in check_logs([reset]))


def test_acked_messages_lost_misplaced_or_doubled_are_found() -> None:
    log = {1: fp("chat.message", text="soak a-1"), 2: fp("chat.message", text="soak a-2")}
    a = rec("a", log)
    a.texts = {"a-1": "soak a-1", "a-2": "soak a-2"}
    a.acked = {"a-1": 1, "a-2": 2}
    assert check_acked([a]) == []
    a.acked["a-2"] = 1
    assert any("a-2" in v for v in check_acked([a]))
    a.acked = {"a-1": 1, "a-3": 3}
    a.texts["a-3"] = "soak a-3"
    assert any("nobody received" in v for v in check_acked([a]))
    doubled = rec("b", {**log, 3: fp("chat.message", text="soak a-1")})
    doubled.texts = {"a-1": "soak a-1"}
    assert any("2 times" in v for v in check_acked([doubled]))


def test_timers_twice_or_never_and_a_holder_who_left_are_found() -> None:
    grant = fp("floor.granted", participant_id="ana", deadline=10_000, started_at=0)
    good = {1: grant, 2: fp("floor.warning", participant_id="ana", remaining_ms=4000),
            3: fp("floor.expired", participant_id="ana"), 4: fp("floor.released", participant_id="ana")}
    at = {1: 0, 2: 6000, 3: 10_100, 4: 10_100}
    assert check_floor({"r": good}, {"r": at}, 5000) == []
    twice = {**good, 4: fp("floor.expired", participant_id="ana"), 5: fp("floor.released", participant_id="ana")}
    assert any("expired 2 times" in v for v in check_floor({"r": twice}, {"r": {**at, 5: 10_200}}, 5000))
    never = {1: grant, 2: fp("reaction", participant_id="ben", kind="clap")}
    assert any("had not expired" in v for v in check_floor({"r": never}, {"r": {1: 0, 2: 16_000}}, 5000))
    left = {1: grant, 2: fp("participant.left", participant_id="ana", reason="left")}
    assert any("left while holding" in v for v in check_floor({"r": left}, {"r": {1: 0, 2: 100}}, 5000))


def test_escalations_doubled_or_missing_are_found() -> None:
    page = {"participant_id": "c1", "waiting_since": 1000, "id": "x"}
    visits = [Visit("c1", 1000, 20_000)]
    assert check_escalations([page, dict(page)], visits, 5000, 5000) == []  # a repeat of one id is fine
    assert any("2 times" in v for v in check_escalations([page, {**page, "id": "y"}], visits, 5000, 5000))
    assert any("never escalated" in v for v in check_escalations([], visits, 5000, 5000))

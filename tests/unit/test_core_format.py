"""Meeting formats in the pure core: what entering each part does, the clock (auto-advance
once per deadline, overtime told once, free time ending the meeting once), who may run a
meeting, settings put back, readings never in an event; and a property test of the runner
over random sequences of advances, ticks and reconnects."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import commands as c
from server.core import format as meeting
from server.core.errors import CommandError
from server.core.model import Format, RoomState, Segment, Settings, Text
from server.core.outcome import Outcome
from server.core.rules import apply, next_deadline, snapshot
from server.formats import shipped

T0 = 1_700_000_000_000
MIN = 60_000
FAC = c.Actor("fac", "Fatima", "facilitator", "w:f")
ANA = c.Actor("ana", "Ana", "member", "w:a")
BEN = c.Actor("ben", "Ben", "member", "w:b")
CAI = c.Actor("cai", "Cai", "member", "w:c")
RESPONDER = c.Actor("res", "Ravi", "responder", "w:r")

WELCOME = "Welcome: what is said here stays here."
WELCOME_HI = "स्वागत है: जो यहाँ कहा जाता है, वह यहीं रहता है।"
CLOSING = "Keep coming back."


def title(en: str) -> Text:
    return Text(en=en, hi=en + " (hi)")


def sample(auto_advance: bool = False, free_minutes: int = 10) -> Format:
    return Format(id="sample", name=Text(en="Sample meeting"), auto_advance=auto_advance,
                  free_minutes=free_minutes, segments=(
                      Segment("reading", title("Welcome"), 2, text=Text(en=WELCOME, hi=WELCOME_HI)),
                      Segment("round", title("Check-in"), 3, share_seconds=60),
                      Segment("open_shares", title("Shares"), 5, share_seconds=120),
                      Segment("milestones", title("Milestones"), 2),
                      Segment("break", title("Break"), 1),
                      Segment("topic", title("Topic"), 2),
                      Segment("reading", title("Closing words"), 1, text=Text(en=CLOSING)),
                      Segment("closing", title("Closing"), 1),
                  ))


def room(*actors: c.Actor, fmt: Format | None = None, **changes: Any) -> RoomState:
    s = RoomState(id="r", kind="circle", settings=Settings().updated(changes), created_at=T0)
    for a in actors:
        s = apply(s, a, c.Join(), T0).state
    if fmt is not None:
        s = apply(s, c.SYSTEM, c.FormatSet(fmt), T0).state
    return s


def types(o: Outcome) -> list[str]:
    return [e.type for e in o.events]


def of(o: Outcome, type_: str) -> dict[str, Any]:
    return dict(next(e.data for e in o.events if e.type == type_))


def started(**kw: Any) -> RoomState:
    s = room(FAC, ANA, BEN, fmt=sample(**kw))
    return apply(s, FAC, c.FormatStart(), T0).state


def assert_refused(s: RoomState, actor: c.Actor, cmd: c.Command, code: str, now: int = T0) -> None:
    with pytest.raises(CommandError) as e:
        apply(s, actor, cmd, now)
    assert e.value.code == code, e.value.message


# -- attaching a format -----------------------------------------------------------------------

def test_a_format_is_attached_and_shown_in_the_snapshot_with_its_readings() -> None:
    s = room(FAC, ANA)
    o = apply(s, c.SYSTEM, c.FormatSet(sample()), T0)
    assert types(o) == ["format.changed"] and of(o, "format.changed") == {"format_id": "sample"}
    assert [(a.action, a.reason) for a in o.audit] == [("format.set", "sample")]
    view = snapshot(o.state, "member", [])["format"]
    assert view["id"] == "sample" and view["running"] is False and view["index"] is None
    assert view["next_index"] == 0 and view["minutes"] == 17 and view["free_minutes"] == 10
    assert view["segments"][0]["text"] == {"en": WELCOME, "hi": WELCOME_HI}
    assert view["segments"][1] == {"kind": "round", "title": {"en": "Check-in", "hi": "Check-in (hi)"},
                                   "minutes": 3, "share_seconds": 60}
    assert "format" not in snapshot(s, "member", [])


def test_who_may_attach_a_format_and_where() -> None:
    s = room(FAC, ANA)
    assert_refused(s, ANA, c.FormatSet(sample()), "forbidden")
    oncall = RoomState(id="r", kind="oncall", settings=Settings(), created_at=T0)
    assert_refused(oncall, c.SYSTEM, c.FormatSet(sample()), "invalid")
    # Staff in the room may, as may the admin API (the system).
    assert apply(s, FAC, c.FormatSet(sample()), T0).state.format is not None
    running = started()
    assert_refused(running, c.SYSTEM, c.FormatSet(sample()), "conflict")
    assert_refused(room(FAC), c.SYSTEM, c.FormatClear(), "not_found")


# -- running a meeting --------------------------------------------------------------------------

def test_only_staff_and_the_chair_run_the_meeting() -> None:
    s = room(FAC, ANA, fmt=sample())
    assert_refused(s, ANA, c.FormatStart(), "forbidden")
    assert_refused(s, BEN, c.FormatStart(), "forbidden")
    assert_refused(room(FAC, ANA), FAC, c.FormatStart(), "not_found")
    # A responder has member powers in a circle.
    s2 = apply(s, RESPONDER, c.Join(), T0).state
    assert_refused(s2, RESPONDER, c.FormatStart(), "forbidden")
    # The member made chair runs it: start, next part, end; and the services end with it.
    chaired = apply(s, FAC, c.ServiceSet("ana", "chair"), T0).state
    started = apply(chaired, ANA, c.FormatStart(), T0).state
    moved = apply(started, ANA, c.FormatAdvance(), T0 + 1).state
    ended = apply(moved, ANA, c.FormatEnd(), T0 + 2)
    assert ended.state.participants["ana"].service is None
    assert [a.action for a in ended.audit] == ["service.take", "format.end"]
    run = apply(s, FAC, c.FormatStart(), T0).state
    assert_refused(run, FAC, c.FormatStart(), "conflict")
    assert_refused(run, ANA, c.FormatAdvance(), "forbidden")
    assert_refused(run, ANA, c.FormatEnd(), "forbidden")
    for cmd in (c.FormatAdvance(), c.FormatEnd()):
        assert_refused(s, FAC, cmd, "conflict")  # not running


def test_starting_enters_the_first_part_a_reading_with_its_reader_on_the_floor() -> None:
    s = room(FAC, ANA, BEN, fmt=sample())
    s = apply(s, BEN, c.HandRaise(), T0).state  # Ben shares before the meeting starts
    assert s.floor is not None and s.floor.participant_id == "ben"
    o = apply(s, FAC, c.FormatStart(reader="ana"), T0 + 5)
    assert of(o, "format.started") == {"format_id": "sample", "index": 0, "started_at": T0 + 5,
                                       "ends_at": T0 + 5 + 2 * MIN, "reader_id": "ana", "newcomers": 0}
    assert types(o) == ["format.started", "settings.changed", "floor.released", "floor.granted"]
    st_ = o.state
    # The queue is paused and the reader reads untimed (the reading has no share length).
    assert st_.settings.auto_advance is False and st_.settings.share_seconds is None
    assert st_.floor is not None and st_.floor.participant_id == "ana" and st_.floor.deadline is None
    assert st_.format is not None and st_.format.before == Settings()
    assert [(a.action, a.reason) for a in o.audit] == [("format.start", "sample")]
    # A hand raised during the reading waits: nobody is given the floor from the queue.
    o2 = apply(st_, BEN, c.HandRaise(), T0 + 6)
    assert types(o2) == ["hand.raised"]


def test_a_reader_must_be_here_unmuted_and_for_a_reading() -> None:
    s = room(FAC, ANA, fmt=sample())
    assert_refused(s, FAC, c.FormatStart(reader="zed"), "not_found")
    muted = apply(s, FAC, c.Mute("ana", True), T0).state
    assert_refused(muted, FAC, c.FormatStart(reader="ana"), "muted")
    run = apply(s, FAC, c.FormatStart(), T0).state
    assert_refused(run, FAC, c.FormatAdvance(reader="ana"), "invalid")  # the next part is a round
    assert_refused(run, FAC, c.FormatAdvance(index=8), "invalid")


def test_the_round_starts_by_itself_and_stops_when_its_part_ends() -> None:
    s = started()
    o = apply(s, FAC, c.FormatAdvance(), T0 + MIN)
    assert of(o, "format.segment") == {"index": 1, "started_at": T0 + MIN, "ends_at": T0 + 4 * MIN,
                                       "reader_id": None}
    assert of(o, "round.started") == {"order": ["fac", "ana", "ben"]}
    st_ = o.state
    assert st_.round is not None and st_.settings.mode == "round" and st_.settings.share_seconds == 60
    assert st_.floor is not None and st_.floor.participant_id == "fac" and st_.floor.deadline == T0 + 2 * MIN
    # On to open shares: the round stops, the queue is open with that part's share length.
    st_ = apply(st_, ANA, c.HandRaise(), T0 + MIN).state
    o = apply(st_, FAC, c.FormatAdvance(), T0 + 2 * MIN)
    assert types(o)[:3] == ["format.segment", "floor.released", "round.ended"]
    st_ = o.state
    assert st_.round is None and st_.settings.mode == "queue" and st_.settings.share_seconds == 120
    assert st_.settings.auto_advance is True
    assert st_.floor is not None and st_.floor.participant_id == "ana"
    assert st_.floor.deadline == T0 + 2 * MIN + 120_000


def test_milestones_invite_a_break_pauses_and_free_time_opens_the_room() -> None:
    s = apply(started(), FAC, c.FormatAdvance(index=3), T0).state
    o = apply(started(), FAC, c.FormatAdvance(index=3), T0)
    assert of(o, "format.milestones") == {"index": 3}
    s = apply(s, ANA, c.HandRaise(), T0).state
    o = apply(s, FAC, c.FormatAdvance(), T0 + MIN)  # the break
    assert "floor.released" in types(o) and o.state.floor is None
    assert o.state.settings.auto_advance is False
    s = apply(o.state, BEN, c.HandRaise(), T0 + MIN).state
    assert s.floor is None and s.queue == ["ben"]
    s = apply(s, FAC, c.FormatAdvance(index=7), T0 + 2 * MIN).state  # the closing
    o = apply(s, FAC, c.FormatAdvance(), T0 + 3 * MIN)  # past the last part
    assert of(o, "format.free") == {"ends_at": T0 + 13 * MIN}
    assert of(o, "queue.moved") == {"queue": []}
    st_ = o.state
    assert st_.settings.audio == "open" and st_.settings.chat == "open" and st_.queue == []
    assert st_.format is not None and st_.format.index is None and st_.format.free_until == T0 + 13 * MIN
    assert snapshot(st_, "member", [])["format"]["next_index"] is None
    assert_refused(st_, ANA, c.HandRaise(), "conflict", T0 + 4 * MIN)
    assert_refused(st_, FAC, c.FormatAdvance(), "conflict", T0 + 4 * MIN)
    assert next_deadline(st_) == T0 + 13 * MIN


def test_free_time_ends_the_meeting_once_and_the_room_goes_back_to_its_settings() -> None:
    s = room(FAC, ANA, BEN, fmt=sample(), share_seconds=300, chat="facilitators", title="Tuesday")
    before = s.settings
    s = apply(s, FAC, c.FormatStart(), T0).state
    s = apply(s, FAC, c.FormatAdvance(index=7), T0).state
    s = apply(s, FAC, c.FormatAdvance(), T0 + MIN).state
    assert s.settings != before
    assert apply(s, c.SYSTEM, c.Tick(), T0 + 10 * MIN).changed is False
    o = apply(s, c.SYSTEM, c.Tick(), T0 + 11 * MIN)
    assert types(o) == ["format.ended", "settings.changed"]
    assert o.state.settings == before and not o.state.ended
    assert o.state.format is not None and not o.state.format.running  # kept for next week
    assert next_deadline(o.state) is None
    again = apply(o.state, c.SYSTEM, c.Tick(), T0 + 11 * MIN)
    assert not again.changed and again.events == ()
    # The next meeting starts from the top.
    assert of(apply(o.state, FAC, c.FormatStart(), T0 + 20 * MIN), "format.started")["index"] == 0


def test_auto_advance_moves_on_once_per_deadline_even_when_the_tick_is_late() -> None:
    s = started(auto_advance=True)
    assert next_deadline(s) == T0 + 2 * MIN
    assert apply(s, c.SYSTEM, c.Tick(), T0 + 2 * MIN - 1).changed is False
    # The server was down for an hour: one tick moves on one part, timed from now.
    o = apply(s, c.SYSTEM, c.Tick(), T0 + 60 * MIN)
    assert of(o, "format.segment") == {"index": 1, "started_at": T0 + 60 * MIN, "ends_at": T0 + 63 * MIN,
                                       "reader_id": None}
    assert [e.actor for e in o.events if e.type.startswith("format.")] == [None]
    assert o.audit == ()  # the clock's moves are in the room log, not the audit
    # Another worker's tick on the new state (or the same instant again) does nothing more.
    assert apply(o.state, c.SYSTEM, c.Tick(), T0 + 60 * MIN).changed is False
    assert meeting.next_deadline(o.state.format) == T0 + 63 * MIN


def test_without_auto_advance_staff_are_told_once_that_the_time_is_up() -> None:
    s = started()
    o = apply(s, c.SYSTEM, c.Tick(), T0 + 2 * MIN)
    assert o.changed and o.events == ()
    [n] = o.notices
    assert (n.event, n.to.kind, dict(n.data)) == ("format.overtime", "facilitators",
                                                 {"room": "r", "index": 0, "ends_at": T0 + 2 * MIN})
    assert next_deadline(o.state) is None
    assert not apply(o.state, c.SYSTEM, c.Tick(), T0 + 5 * MIN).changed
    # Moving on gives the next part its own deadline and its own notice.
    nxt = apply(o.state, FAC, c.FormatAdvance(), T0 + 5 * MIN).state
    assert meeting.next_deadline(nxt.format) == T0 + 8 * MIN


def test_the_chair_can_go_back_and_name_a_reader() -> None:
    s = apply(started(), FAC, c.FormatAdvance(index=2), T0).state
    o = apply(s, FAC, c.FormatAdvance(index=0, reader="ben"), T0 + MIN)
    assert of(o, "format.segment")["index"] == 0 and of(o, "format.segment")["reader_id"] == "ben"
    assert o.state.floor is not None and o.state.floor.participant_id == "ben"
    assert [(a.action, a.target, a.reason) for a in o.audit] == [("format.advance", "ben", "sample part 0")]
    # Leaving the reading ends the reader's turn.
    o = apply(o.state, FAC, c.FormatAdvance(index=5), T0 + 2 * MIN)
    assert of(o, "floor.released") == {"participant_id": "ben", "reason": "revoked"}


def test_ending_early_stops_the_round_and_puts_the_settings_back() -> None:
    s = apply(started(), FAC, c.FormatAdvance(), T0).state
    assert s.round is not None
    o = apply(s, FAC, c.FormatEnd(), T0 + MIN)
    assert types(o)[:3] == ["format.ended", "floor.released", "round.ended"]
    assert o.state.round is None and o.state.settings == Settings()
    assert [a.action for a in o.audit] == ["format.end"]


def test_clearing_a_running_meeting_ends_it_first() -> None:
    o = apply(started(), c.SYSTEM, c.FormatClear(), T0)
    assert types(o)[0] == "format.ended" and types(o)[-1] == "format.changed"
    assert of(o, "format.changed") == {"format_id": None}
    assert o.state.format is None and o.state.settings == Settings()


def test_a_round_with_nobody_here_does_not_stop_the_clock() -> None:
    s = room(FAC, fmt=sample(auto_advance=True))
    s = apply(s, FAC, c.FormatStart(), T0).state
    s = apply(s, FAC, c.Disconnect(), T0).state
    o = apply(s, c.SYSTEM, c.Tick(), T0 + 2 * MIN)
    assert of(o, "format.segment")["index"] == 1 and o.state.round is None


def test_the_meeting_survives_serialisation() -> None:
    s = apply(started(), FAC, c.FormatAdvance(), T0).state
    back = RoomState.from_dict(json.loads(json.dumps(s.to_dict(), ensure_ascii=False)))
    assert back.format == s.format and back.to_dict() == s.to_dict()


def test_reading_texts_are_never_in_an_event_a_notice_or_the_audit() -> None:
    s = room(FAC, ANA, fmt=sample(auto_advance=True))
    seen: list[Any] = []
    o = apply(s, FAC, c.FormatStart(reader="ana"), T0)
    s, now = o.state, T0
    seen.append(o)
    while (due := next_deadline(s)) is not None:
        now = due
        o = apply(s, c.SYSTEM, c.Tick(), now)
        seen.append(o)
        s = o.state
    s2 = apply(s, FAC, c.FormatAdvance(index=0) if s.format and s.format.running else c.FormatStart(), now)
    seen.append(s2)
    blob = json.dumps([[e.to_wire() for e in x.events] + [dict(n.data) for n in x.notices]
                       + [a.to_wire() for a in x.audit] for x in seen], ensure_ascii=False)
    assert "format.ended" in blob
    for text in (WELCOME, WELCOME_HI, CLOSING, "what is said"):
        assert text not in blob


# -- the format's own rules ---------------------------------------------------------------------

@pytest.mark.parametrize(("build", "message"), [
    (lambda: Segment("reading", title("x"), 2), "text: a reading needs its text"),
    (lambda: Segment("topic", title("x"), 2, text=Text(en="t")), "text: only a reading has a text"),
    (lambda: Segment("topic", title("x"), 0), "minutes must be an integer from 1 to 180"),
    (lambda: Segment("nap", title("x"), 2), "kind must be one of"),  # type: ignore[arg-type]
    (lambda: Segment("round", title("x"), 2, share_seconds=5), "share_seconds must be an integer from 10"),
    (lambda: Segment("topic", Text(en=" "), 2), "title.en must be 1-120 characters"),
    (lambda: Segment("reading", title("x"), 2, text=Text(en="a" * 5001)), "text.en must be 1-5000"),
    (lambda: Format("Bad Id", Text(en="x"), (Segment("topic", title("x"), 2),)), "id must match"),
    (lambda: Format("f", Text(en="x"), ()), "segments: a format has 1 to 30 parts"),
    (lambda: Format("f", Text(en="x"), (Segment("topic", title("x"), 2),) * 31), "1 to 30 parts"),
    (lambda: Format("f", Text(en="x"), (Segment("topic", title("x"), 2),), free_minutes=121), "free_minutes"),
    (lambda: Format("f", Text(en="x"), tuple(Segment("reading", title("x"), 1, text=Text(en="a" * 5000, hi="b" * 5000))
                                            for _ in range(6))), "at most 50000 characters"),
])
def test_a_bad_format_is_refused_with_the_field_named(build: Any, message: str) -> None:
    with pytest.raises(CommandError) as e:
        build()
    assert e.value.code == "invalid" and message in e.value.message


def test_the_shipped_templates_are_complete_in_three_languages() -> None:
    found = {f.id: f for f in shipped()}
    assert set(found) == {"twelve-step", "smart"}
    smart = found["smart"]
    assert [s.kind for s in smart.segments] == ["reading", "round", "topic", "open_shares", "round", "closing"]
    assert [s.kind for s in found["twelve-step"].segments][:3] == ["reading"] * 3
    assert {"topic", "open_shares", "milestones", "closing"} <= {s.kind for s in found["twelve-step"].segments}
    for f in found.values():
        assert f.name.hi and f.name.pa
        for seg in f.segments:
            assert seg.title.hi and seg.title.pa, seg.title
            if seg.text is not None:
                assert seg.text.hi and seg.text.pa
                assert any("\u0900" <= ch <= "\u097f" for ch in seg.text.hi)  # Devanagari
                assert any("\u0a00" <= ch <= "\u0a7f" for ch in seg.text.pa)  # Gurmukhi
    welcome = smart.segments[0].text
    assert welcome is not None
    assert "stays here" in welcome.en and "recorded" in welcome.en and "advice" in welcome.en


# -- the runner, over any sequence of advances, ticks and reconnects ------------------------------

PEOPLE = (FAC, ANA, BEN, CAI)
Op = tuple[str, int]
ops = st.lists(st.one_of(
    st.tuples(st.just("advance"), st.just(0)),
    st.tuples(st.just("tick"), st.integers(min_value=0, max_value=12 * MIN)),
    st.tuples(st.just("double_tick"), st.integers(min_value=0, max_value=6 * MIN)),
    st.tuples(st.just("reconnect"), st.integers(min_value=0, max_value=len(PEOPLE) - 1)),
    st.tuples(st.just("raise"), st.integers(min_value=1, max_value=len(PEOPLE) - 1)),
    st.tuples(st.just("goto"), st.integers(min_value=0, max_value=7)),
), max_size=60)


class Runner:
    """Applies commands as the service would (a refused command leaves the state as it was)
    and checks every format event against what may follow what."""

    def __init__(self, auto: bool) -> None:
        self.fmt = sample(auto_advance=auto)
        self.s = apply(room(*PEOPLE, fmt=self.fmt), FAC, c.FormatStart(), T0).state
        self.now = T0
        self.entered = [0]
        self.frees = 0
        self.in_free = False
        self.ends = 0
        self.explicit: int | None = None

    def run(self, actor: c.Actor, cmd: c.Command) -> Outcome | None:
        try:
            o = apply(self.s, actor, cmd, self.now)
        except CommandError:
            return None
        self.observe(o)
        self.s = o.state
        return o

    def observe(self, o: Outcome) -> None:
        # One command, or one tick however late, moves the meeting on at most one step.
        assert len([e for e in o.events if e.type in ("format.segment", "format.free", "format.ended")]) <= 1
        for e in o.events:
            if e.type == "format.segment":
                i = e.data["index"]
                if self.explicit is not None:
                    assert i == self.explicit
                else:  # in order, each once: never back, never skipped
                    assert i == self.entered[-1] + 1 and not self.in_free, (self.entered, i)
                assert self.ends == 0
                self.entered.append(i)
                self.in_free = False
            elif e.type == "format.free":
                # Only after the last part, and once (until the chair explicitly goes back).
                assert self.entered[-1] == len(self.fmt.segments) - 1 and not self.in_free
                self.frees += 1
                self.in_free = True
            elif e.type == "format.ended":
                # Free time ends the meeting, once.
                assert self.in_free and self.ends == 0
                self.ends += 1
            elif e.type == "format.started":
                raise AssertionError("nobody started the meeting again")
        blob = json.dumps([e.to_wire() for e in o.events], ensure_ascii=False)
        assert WELCOME not in blob and CLOSING not in blob

    def tick(self) -> None:
        if (due := next_deadline(self.s)) is not None and due <= self.now:
            self.run(c.SYSTEM, c.Tick())

    def step(self, op: Op) -> None:
        kind, arg = op
        self.explicit = None
        if kind == "advance":
            self.run(FAC, c.FormatAdvance())
        elif kind == "tick":
            self.now += arg
            self.tick()
        elif kind == "double_tick":
            # Two workers tick the same version: one commit wins, the other finds it stale
            # and retries on the new state, where nothing is due.
            self.now += arg
            base = self.s
            self.tick()
            if base is not self.s:
                again = apply(self.s, c.SYSTEM, c.Tick(), self.now)
                assert not any(e.type.startswith("format.") for e in again.events)
        elif kind == "reconnect":
            who = PEOPLE[arg]
            self.run(who, c.Disconnect())
            self.run(who, c.Join())
        elif kind == "raise":
            self.run(PEOPLE[arg], c.HandRaise())
        elif kind == "goto" and self.s.format is not None and self.s.format.running:
            self.explicit = arg
            self.run(FAC, c.FormatAdvance(index=arg))
            self.explicit = None


@settings(max_examples=150, deadline=None)
@given(auto=st.booleans(), script=ops)
def test_the_runner_enters_parts_in_order_and_free_time_ends_the_meeting_once(auto: bool, script: list[Op]) -> None:
    r = Runner(auto)
    before = r.s.format.before if r.s.format else None
    for op in script:
        r.step(op)
        run = r.s.format
        assert run is not None
        if run.index is not None:
            assert run.ends_at is not None and run.started_at is not None and run.started_at <= r.now
        assert (r.ends == 1) == (not run.running)
    # Let the meeting run out: the chair moves on (or the clock does) until it is over.
    for _ in range(40):
        if r.ends:
            break
        r.now += 15 * MIN
        r.tick()
        if not r.ends and not auto:
            r.run(FAC, c.FormatAdvance())
    assert r.ends == 1 and r.frees >= 1
    assert r.s.format is not None and not r.s.format.running and next_deadline(r.s) is None
    assert dataclasses.replace(r.s.settings, mode="queue") == before

"""One contract, two stores: every test here runs against the memory store and against a
real Redis (its own redis-server on a free port). Redis-only tests at the end check what
only Redis can get wrong: TTLs, nothing on disk, URLs, retries, an unreachable server.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from server.clock import ManualClock
from server.core import commands as c
from server.core import rules
from server.core.model import LOG_RETAIN, AuditEntry, Event, Notice, RoomState, Settings, Target
from server.core.outcome import Outcome
from server.store import Store, StoreUnavailable
from server.store import keys as k
from server.store.base import AUDIT_ACTIONS_KEPT, AUDIT_SIGNALS_KEPT, AuditCursor
from server.store.memory import MemoryStore
from server.store.redis import RedisStore
from tests.redis_server import RedisServer, free_port

T0 = 1_700_000_000_000
FAC = c.Actor(id="fay", name="Fay", role="facilitator", conn="w1:s1")
ANA = c.Actor(id="ana", name="Ana", role="member", conn="w1:s2")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, clock: ManualClock) -> AsyncIterator[Store]:
    s: Store
    if request.param == "memory":
        s = MemoryStore(clock=clock)
    else:
        s = RedisStore.from_url(request.getfixturevalue("redis_url"))
    yield s
    await s.close()


# Time passing, as a store sees it: the memory store reads its clock; Redis counts down
# TTLs, so every TTL is shortened by that much (and a key whose time is up goes).
SHIFT_TTLS = """
local ms = tonumber(ARGV[1])
for _, key in ipairs(redis.call('KEYS', '*')) do
  local left = redis.call('PTTL', key)
  if left > 0 then
    if left <= ms then redis.call('DEL', key) else redis.call('PEXPIRE', key, left - ms) end
  end
end
"""


@pytest.fixture
def advance(store: Store, clock: ManualClock, request: pytest.FixtureRequest) -> Callable[[int], Awaitable[None]]:
    if isinstance(store, MemoryStore):
        return clock.advance

    async def shift(ms: int) -> None:
        client = aioredis.Redis.from_url(request.getfixturevalue("redis_url"), decode_responses=True)
        try:
            await client.eval(SHIFT_TTLS, 0, ms)
        finally:
            await client.aclose()
    return shift


def room(room_id: str = "circle") -> RoomState:
    return RoomState(id=room_id, kind="circle", settings=Settings(), created_at=T0)


async def make(store: Store, room_id: str = "circle") -> RoomState:
    state = room(room_id)
    assert await store.create_room(state)
    return state


async def run(store: Store, room_id: str, actor: c.Actor, cmd: c.Command, now: int = T0) -> Outcome:
    """What the service does, minus publishing: load, apply, commit."""
    state = await store.load(room_id)
    assert state is not None
    outcome = rules.apply(state, actor, cmd, now)
    assert await store.commit(state.version, outcome, rules.next_deadline(outcome.state))
    return outcome


def bulk(state: RoomState, n: int, type_: str = "reaction", at: int = T0) -> Outcome:
    """A commit appending ``n`` events at once (cheaper than n commands)."""
    new = state.copy()
    events = []
    for _ in range(n):
        new.seq += 1
        data: dict[str, Any] = ({"id": f"m{new.seq}", "from": "ana", "text": f"text {new.seq}", "redacted": False,
                                 "reply_to": None} if type_ == "chat.message" else
                                {"participant_id": "ana", "kind": "clap"})
        events.append(Event(room=new.id, seq=new.seq, type=type_, at=at, actor="ana", data=data))
    new.version += 1
    return Outcome(state=new, events=tuple(events))


async def commit(store: Store, outcome: Outcome, expected: int, deadline: int | None = None) -> RoomState:
    assert await store.commit(expected, outcome, deadline)
    return outcome.state


# -- the contract -------------------------------------------------------------------------------

async def test_create_and_load(store: Store) -> None:
    state = await make(store)
    loaded = await store.load("circle")
    assert loaded is not None and loaded.to_dict() == state.to_dict()
    assert not await store.create_room(room())  # the id is taken
    assert await store.load("nowhere") is None
    assert await store.room_ids() == ["circle"]


async def test_state_round_trips_through_commits(store: Store) -> None:
    await make(store)
    await run(store, "circle", FAC, c.Join())
    await run(store, "circle", ANA, c.Join())
    await run(store, "circle", FAC, c.ChangeSettings({"share_seconds": 60}))
    out = await run(store, "circle", ANA, c.HandRaise())
    loaded = await store.load("circle")
    assert loaded is not None
    assert loaded.to_dict() == out.state.to_dict()
    assert loaded.floor is not None and loaded.floor.participant_id == "ana"
    assert loaded.seq == 5 and loaded.version == out.state.version


async def test_a_stale_commit_is_refused_and_changes_nothing(store: Store) -> None:
    base = await make(store)
    await run(store, "circle", FAC, c.Join())
    # Two workers loaded the same state; the first to commit wins, the second is refused.
    one = await store.load("circle")
    assert one is not None
    first = rules.apply(one, ANA, c.Join(), T0 + 1)
    second = rules.apply(one, c.Actor(id="ben", name="Ben", role="member", conn="w2:s1"), c.Join(), T0 + 2)
    assert await store.commit(one.version, first, None)
    assert not await store.commit(one.version, second, None)
    loaded = await store.load("circle")
    assert loaded is not None and set(loaded.participants) == {"fay", "ana"}
    assert [e.seq for e in await store.events_after("circle", 0) or []] == [1, 2]
    # A commit to a room that does not exist is refused too.
    ghost = bulk(room("ghost"), 1)
    assert not await store.commit(base.version, ghost, None)
    assert await store.load("ghost") is None


async def test_events_after_gives_the_log_in_order(store: Store) -> None:
    await make(store)
    joined = await run(store, "circle", FAC, c.Join())
    await run(store, "circle", ANA, c.Join())
    out = await run(store, "circle", ANA, c.Reaction(kind="heart"))
    every = await store.events_after("circle", 0)
    assert every is not None
    assert [e.seq for e in every] == [1, 2, 3]
    assert [e.type for e in every] == ["participant.joined", "participant.joined", "reaction"]
    assert every[0] == joined.events[0] and every[2] == out.events[0]
    tail = await store.events_after("circle", 2)
    assert tail == [out.events[0]]
    assert await store.events_after("circle", 3) == []
    assert await store.events_after("circle", 99) == []
    assert await store.events_after("nowhere", 0) is None


async def test_too_old_is_none_and_at_least_the_last_thousand_are_kept(store: Store) -> None:
    state = await make(store)
    for _ in range(26):  # 2600 events in commits of 100
        state = await commit(store, bulk(state, 100), state.version)
    assert state.seq == 2600
    assert await store.events_after("circle", 0) is None
    assert await store.events_after("circle", 100) is None
    recent = await store.events_after("circle", state.seq - LOG_RETAIN)
    assert recent is not None and [e.seq for e in recent] == list(range(1601, 2601))


async def test_recent_chat_is_the_last_messages_oldest_first(store: Store) -> None:
    state = await make(store)
    state = await commit(store, bulk(state, 3, "chat.message"), state.version)   # 1-3
    state = await commit(store, bulk(state, 300, "reaction"), state.version)     # 4-303
    state = await commit(store, bulk(state, 2, "chat.message"), state.version)   # 304-305
    state = await commit(store, bulk(state, 5, "reaction"), state.version)       # 306-310
    assert [e.seq for e in await store.recent_chat("circle", 4)] == [2, 3, 304, 305]
    assert [e.seq for e in await store.recent_chat("circle", 50)] == [1, 2, 3, 304, 305]
    assert [e.data["text"] for e in await store.recent_chat("circle", 1)] == ["text 305"]
    assert await store.recent_chat("nowhere", 50) == []


async def test_deadlines_fall_due_and_clear(store: Store) -> None:
    a = await make(store, "a")
    b = await make(store, "b")
    assert await store.next_due() is None and await store.due_rooms(T0 * 2) == []
    a = await commit(store, bulk(a, 1), a.version, deadline=T0 + 5000)
    b = await commit(store, bulk(b, 1), b.version, deadline=T0 + 3000)
    assert await store.next_due() == T0 + 3000
    assert await store.due_rooms(T0 + 2999) == []
    assert await store.due_rooms(T0 + 3000) == ["b"]
    assert sorted(await store.due_rooms(T0 + 9000)) == ["a", "b"]
    # A commit moves or clears the room's deadline.
    b = await commit(store, bulk(b, 1), b.version, deadline=None)
    assert await store.next_due() == T0 + 5000
    a = await commit(store, bulk(a, 1), a.version, deadline=T0 + 8000)
    assert await store.due_rooms(T0 + 7999) == []
    assert await store.next_due() == T0 + 8000
    assert await store.due_rooms(T0 + 8000, limit=1) == ["a"]
    # A room created with a deadline has it at once.
    assert await store.create_room(room("c"), deadline=T0 + 1000)
    assert await store.due_rooms(T0 + 1000) == ["c"]


async def test_delete_room_removes_everything_but_the_audit(store: Store) -> None:
    state = await make(store)
    other = await make(store, "other")
    entry = AuditEntry(at=T0, room="circle", actor="fay", action="participant.mute", target="ana", reason=None)
    out = bulk(state, 3, "chat.message")
    out = Outcome(state=out.state, events=out.events, audit=(entry,))
    await commit(store, out, state.version, deadline=T0 + 100)
    await commit(store, bulk(other, 1), other.version, deadline=T0 + 200)
    await store.delete_room("circle")
    assert await store.load("circle") is None
    assert await store.events_after("circle", 0) is None
    assert await store.recent_chat("circle", 50) == []
    assert await store.room_ids() == ["other"]
    assert await store.due_rooms(T0 + 1000) == ["other"]
    assert await store.next_due() == T0 + 200
    assert await store.audit("circle", None) == [entry]
    # The id is free again, and the new room's log starts afresh.
    again = await make(store)
    again = await commit(store, bulk(again, 2), again.version)
    assert [e.seq for e in await store.events_after("circle", 0) or []] == [1, 2]


async def test_audit_filters_by_room_and_time(store: Store) -> None:
    a = await make(store, "a")
    b = await make(store, "b")
    entries = []
    for i in range(6):
        which = a if i % 2 == 0 else b
        entry = AuditEntry(at=T0 + i * 1000, room=which.id, actor="fay", action="participant.mute",
                           target=f"p{i}", reason="disruptive" if i == 3 else None)
        entries.append(entry)
        new = which.copy()
        new.version += 1
        await commit(store, Outcome(state=new, audit=(entry,)), which.version)
        if which is a:
            a = new
        else:
            b = new
    assert await store.audit(None, None) == entries
    assert await store.audit("a", None) == entries[0::2]
    assert await store.audit(None, T0 + 3000) == entries[3:]
    assert await store.audit("b", T0 + 2000) == [entries[3], entries[5]]
    assert await store.audit(None, None, limit=2) == entries[-2:]
    # Two identical entries of one commit are two entries.
    twice = a.copy()
    twice.version += 1
    same = AuditEntry(at=T0 + 9000, room="a", actor="fay", action="report", target="ben", reason=None)
    await commit(store, Outcome(state=twice, audit=(same, same)), a.version)
    assert await store.audit("a", T0 + 9000) == [same, same]


async def test_audit_keeps_only_the_retention_period(store: Store) -> None:
    day = 86_400_000
    if isinstance(store, MemoryStore):
        store = MemoryStore(audit_retention_ms=day)
    else:
        assert isinstance(store, RedisStore)
        store = RedisStore(store.connector, audit_retention_ms=day)
    try:
        other = await make(store, "other")
        await commit(store, audited(other, entry("other", "ban", T0)), other.version)
        state = await make(store)
        for i, at in enumerate((T0, T0 + day // 2, T0 + day + 1)):
            new = state.copy()
            new.version += 1
            e = AuditEntry(at=at, room="circle", actor=None, action="oncall.page", target=f"p{i}", reason=None)
            state = await commit(store, Outcome(state=new, audit=(e,)), state.version)
        assert [e.target for e in await store.audit(None, None)] == ["p1", "p2"]
        assert await store.audit("other", None) == []  # another room's old entries go too
    finally:
        await store.close()


def audited(state: RoomState, *entries: AuditEntry) -> Outcome:
    """A commit that only appends audit entries."""
    new = state.copy()
    new.version += 1
    return Outcome(state=new, audit=entries)


def entry(room_id: str, action: str, at: int = T0, target: str | None = "ana") -> AuditEntry:
    return AuditEntry(at=at, room=room_id, actor="fay", action=action, target=target, reason=None)


async def test_audit_pages_back_from_the_newest_with_a_cursor(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import server.store.redis as redis_store
    # Redis reads rooms in growing batches: start at one so that every read is a refill.
    monkeypatch.setattr(redis_store, "AUDIT_FIRST_READ", 1)
    monkeypatch.setattr(redis_store, "AUDIT_ROOMS_PER_READ", 1)
    rooms = {"a": await make(store, "a"), "b": await make(store, "b")}
    everything = []
    for i in range(7):
        # Actions and signals, in one room's two rings, interleaved in time.
        e = entry("b" if i % 3 == 0 else "a", "report" if i % 2 else "mute", T0 + i * 1000, f"p{i}")
        rooms[e.room] = await commit(store, audited(rooms[e.room], e), rooms[e.room].version)
        everything.append(e)
    # Two entries of one commit share their moment; paging still splits them exactly.
    tie = (entry("a", "remove", T0 + 9000, "t1"), entry("a", "ban", T0 + 9000, "t2"))
    rooms["a"] = await commit(store, audited(rooms["a"], *tie), rooms["a"].version)
    everything += tie

    # Every room: the newest `limit`, oldest first, and where the next (older) page starts.
    page = await store.audit_page(None, None, limit=4)
    assert page.entries == everything[-4:] and page.next is not None
    got, pages = list(page.entries), 1
    while page.next is not None:
        assert AuditCursor.parse(str(page.next)) == page.next  # it travels as text
        page = await store.audit_page(None, None, before=page.next, limit=4)
        got, pages = page.entries + got, pages + 1
    assert got == everything and pages == 3
    # A page that holds exactly what is left says there is no more.
    assert await store.audit_page(None, None, limit=9) == (everything, None)
    # One room, a page of one: the two entries of one moment come one after the other.
    a = [e for e in everything if e.room == "a"]
    first = await store.audit_page("a", None, limit=1)
    assert first.entries == [tie[1]] and first.next is not None
    second = await store.audit_page("a", None, before=first.next, limit=1)
    assert second.entries == [tie[0]]
    rest = await store.audit_page("a", None, before=second.next, limit=100)
    assert rest.entries == a[:-2] and rest.next is None
    # `since` bounds the pages from below.
    newer = await store.audit_page(None, T0 + 3000, limit=3)
    assert newer.entries == everything[-3:]
    older = await store.audit_page(None, T0 + 3000, before=newer.next, limit=3)
    assert older.entries == everything[3:6] and older.next is None
    assert await store.audit_page("b", T0 + 3000, limit=3) == ([everything[3], everything[6]], None)
    assert await store.audit_page("nowhere", None) == ([], None)


async def test_audit_filters_by_action_and_until_and_pages_within_them(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import server.store.redis as redis_store
    monkeypatch.setattr(redis_store, "AUDIT_FIRST_READ", 1)
    rooms = {"a": await make(store, "a"), "b": await make(store, "b")}
    everything = []
    actions = ["oncall.page", "mute", "report", "oncall.answered", "ban", "oncall.page", "report", "oncall.answered"]
    for i, action in enumerate(actions * 2):
        e = entry("a" if i % 2 else "b", action, T0 + i * 1000, f"p{i}")
        rooms[e.room] = await commit(store, audited(rooms[e.room], e), rooms[e.room].version)
        everything.append(e)

    def of(*names: str, lo: int = 0, hi: int = 10**6) -> list[AuditEntry]:
        return [e for e in everything if e.action in names and T0 + lo <= e.at < T0 + hi]

    # One action, several, one of each ring (reports are signals, the rest staff actions).
    assert await store.audit_page(None, None, actions=frozenset({"oncall.page"})) == (of("oncall.page"), None)
    assert (await store.audit_page(None, None, actions=frozenset({"report", "ban"}))).entries == of("report", "ban")
    assert (await store.audit_page("a", None, actions=frozenset({"oncall.answered"}))).entries == [
        e for e in of("oncall.answered") if e.room == "a"]
    assert await store.audit_page(None, None, actions=frozenset({"nothing.like.this"})) == ([], None)
    # `until` is exclusive, `since` inclusive: [since, until).
    assert (await store.audit_page(None, T0 + 2000, until=T0 + 5000)).entries == of(*actions, lo=2000, hi=5000)
    assert (await store.audit_page(None, None, until=T0)).entries == []
    assert (await store.audit_page(None, None, until=T0 + 1)).entries == everything[:1]
    # Everything at once, paged: each page the newest of what is left, the cursor and
    # `until` together (the smaller bound holds).
    want = of("oncall.page", "oncall.answered", lo=1000, hi=14_000)
    page = await store.audit_page(None, T0 + 1000, limit=2, until=T0 + 14_000,
                                  actions=frozenset({"oncall.page", "oncall.answered"}))
    got = list(page.entries)
    assert got == want[-2:]
    while page.next is not None:
        page = await store.audit_page(None, T0 + 1000, before=page.next, limit=2, until=T0 + 14_000,
                                      actions=frozenset({"oncall.page", "oncall.answered"}))
        got = page.entries + got
    assert got == want and len(want) == 6


async def test_the_rota_is_kept_until_nobody_has_read_it_for_its_ttl(
        store: Store, advance: Callable[[int], Awaitable[None]]) -> None:
    assert await store.rota() == []
    shifts = [{"responder": "dev", "name": "Dev", "days": [1, 2], "start": "09:00", "end": "17:00",
               "tz": "Asia/Kolkata"}]
    await store.save_rota(shifts)
    assert await store.rota() == shifts
    day = 86_400_000
    await advance(k.ROTA_TTL_MS - day)
    assert await store.rota() == shifts  # read: good for another ROTA_TTL_MS
    await advance(k.ROTA_TTL_MS - day)
    assert await store.rota() == shifts
    await store.save_rota([])
    assert await store.rota() == []
    await store.save_rota(shifts)
    await advance(k.ROTA_TTL_MS + day)
    assert await store.rota() == []


def test_an_audit_cursor_is_two_numbers() -> None:
    assert AuditCursor.parse("1700000000000:42") == AuditCursor(1_700_000_000_000, 42)
    assert str(AuditCursor(1_700_000_000_000, 42)) == "1700000000000:42"
    for bad in ("", "42", "a:b", "1:2:3", "-1:2", "1:-2", "1.5:2", " 1:2", "9" * 40 + ":1"):
        with pytest.raises(ValueError):
            AuditCursor.parse(bad)


async def test_a_flood_of_reports_keeps_the_ban_and_the_newest_reports(store: Store) -> None:
    # Issue 12 item 5: ten sockets' reports pushed a ban out of the audit view.
    a = await make(store, "a")
    ban = entry("a", "ban", T0, "ben")
    a = await commit(store, audited(a, ban), a.version)
    for n in range(3):
        a = await commit(store, audited(a, *(
            entry("a", "report", T0 + 1 + n * AUDIT_SIGNALS_KEPT + j, "fay") for j in range(AUDIT_SIGNALS_KEPT))),
            a.version)
    kept = await store.audit("a", None, limit=10 * AUDIT_SIGNALS_KEPT)
    assert kept[0] == ban
    reports = kept[1:]
    assert len(reports) == AUDIT_SIGNALS_KEPT and {e.action for e in reports} == {"report"}
    assert [e.at for e in reports] == list(range(T0 + 1 + 2 * AUDIT_SIGNALS_KEPT, T0 + 1 + 3 * AUDIT_SIGNALS_KEPT))
    # The ban is on the last page of the room's audit, behind the reports.
    page = await store.audit_page("a", None, limit=AUDIT_SIGNALS_KEPT)
    assert page.entries == reports and page.next is not None
    assert await store.audit_page("a", None, before=page.next) == ([ban], None)


async def test_a_flood_in_one_room_does_not_push_out_another_rooms_audit(store: Store) -> None:
    a = await make(store, "a")
    b = await make(store, "b")
    ban = entry("a", "ban", T0, "ben")
    a = await commit(store, audited(a, ban), a.version)
    flood = 100_001  # one more than the cap all rooms used to share
    for start in range(0, flood, 10_000):
        b = await commit(store, audited(b, *(entry("b", "report", T0 + 1 + i, "fay")
                                             for i in range(start, min(flood, start + 10_000)))), b.version)
    assert await store.audit("a", None) == [ban]
    assert len(await store.audit("b", None, limit=flood)) == AUDIT_SIGNALS_KEPT
    assert (await store.audit_page(None, None, limit=1)).entries == [entry("b", "report", T0 + flood, "fay")]


async def test_staff_actions_have_a_cap_of_their_own(store: Store) -> None:
    a = await make(store, "a")
    a = await commit(store, audited(a, *(entry("a", "mute", T0 + i, f"p{i}") for i in range(AUDIT_ACTIONS_KEPT + 10))),
                     a.version)
    a = await commit(store, audited(a, *(entry("a", "message.held", T0 + 10**6 + i) for i in range(5))), a.version)
    kept = await store.audit("a", None, limit=10 * AUDIT_ACTIONS_KEPT)
    mutes = [e for e in kept if e.action == "mute"]
    assert len(mutes) == AUDIT_ACTIONS_KEPT and mutes[0].target == "p10"
    assert len(kept) == AUDIT_ACTIONS_KEPT + 5


async def test_past_the_total_cap_the_largest_room_gives_up_its_oldest_entries(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import server.store.memory as memory_store
    import server.store.redis as redis_store
    monkeypatch.setattr(memory_store, "AUDIT_MAX", 10)
    monkeypatch.setattr(redis_store, "AUDIT_MAX", 10)
    a, b, c = await make(store, "a"), await make(store, "b"), await make(store, "c")
    a = await commit(store, audited(a, *(entry("a", "mute", T0 + i) for i in range(3))), a.version)
    b = await commit(store, audited(b, *(entry("b", "mute", T0 + 10 + i) for i in range(2))), b.version)
    b = await commit(store, audited(b, *(entry("b", "report", T0 + 20 + i) for i in range(20))), b.version)

    async def kept(room_id: str) -> list[tuple[str, int]]:
        return [(e.action, e.at - T0) for e in await store.audit(room_id, None)]

    # The room that made the flood pays for it: its oldest reports go.
    assert len(await kept("a")) == 3
    assert await kept("b") == [("mute", 10), ("mute", 11)] + [("report", 20 + i) for i in range(15, 20)]
    c = await commit(store, audited(c, entry("c", "mute", T0 + 50)), c.version)
    assert await kept("b") == [("mute", 10), ("mute", 11)] + [("report", 20 + i) for i in range(16, 20)]
    # Its reports go before its staff actions, whatever their age.
    b = await commit(store, audited(b, *(entry("b", "ban", T0 + 60 + i) for i in range(10))), b.version)
    assert await kept("b") == [("ban", 60 + i) for i in range(4, 10)]
    assert len(await kept("a")) == 3 and len(await kept("c")) == 1
    assert len(await store.audit(None, None)) == 10


async def test_a_room_with_no_commit_for_the_idle_ttl_is_forgotten(
        store: Store, advance: Callable[[int], Awaitable[None]]) -> None:
    # Issue 12 item 11: the memory store never forgot an idle room; Redis lets it expire.
    a = await make(store, "a")
    b = await make(store, "b")
    await make(store, "c")  # created, and never used
    mute = entry("a", "mute")
    out = bulk(a, 3, "chat.message")
    a = await commit(store, Outcome(state=out.state, events=out.events, audit=(mute,),
                                    client_ids=(("ana\x00k1", 3),)), a.version, deadline=T0 + 2 * k.ROOM_IDLE_TTL_MS)
    b = await commit(store, bulk(b, 1), b.version)
    minute = 60_000
    await advance(k.ROOM_IDLE_TTL_MS - minute)
    b = await commit(store, bulk(b, 1), b.version)  # b is in use; a and c are not
    loaded, seen = await store.load_with_client_id("a", "ana\x00k1")
    assert loaded is not None and loaded.to_dict() == a.to_dict() and seen == 3
    assert sorted(await store.room_ids()) == ["a", "b", "c"]
    await advance(2 * minute)
    assert await store.load("a") is None and await store.load("c") is None
    assert await store.load_with_client_id("a", "ana\x00k1") == (None, None)
    assert await store.events_after("a", 0) is None
    assert await store.recent_chat("a", 10) == []
    assert await store.room_ids() == ["b"]
    assert await store.due_rooms(T0 + 3 * k.ROOM_IDLE_TTL_MS) == []
    alive = await store.load("b")
    assert alive is not None and alive.to_dict() == b.to_dict()
    # The audit outlives the room, for its own retention period.
    assert await store.audit("a", None) == [mute]
    # The id is free again, and the new room's log starts afresh.
    again = await make(store, "a")
    await commit(store, bulk(again, 1), again.version)
    assert [e.seq for e in await store.events_after("a", 0) or []] == [1]
    # The audit goes when its retention has passed since its room's last entry.
    await advance(30 * 86_400_000 - k.ROOM_IDLE_TTL_MS - 2 * minute)  # a minute before
    assert await store.audit("a", None) == [mute]
    await advance(2 * minute)
    assert await store.audit(None, None) == []


# -- Redis only ----------------------------------------------------------------------------------

@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def test_every_redis_key_has_a_ttl_or_is_gone_with_its_room(redis_url: str, raw: aioredis.Redis) -> None:
    store = RedisStore.from_url(redis_url)
    try:
        a = await make(store, "a")
        b = await make(store, "b")
        entry = AuditEntry(at=T0, room="a", actor="fay", action="participant.remove", target="ana", reason=None)
        out = bulk(a, 5, "chat.message")
        a = await commit(store, Outcome(state=out.state, events=out.events, audit=(entry,)), a.version, T0 + 10)
        b = await commit(store, bulk(b, 5), b.version, T0 + 20)
        found = sorted([key async for key in raw.scan_iter("*")])
        audit_keys = sorted([k.audit("a", "action"), k.AUDIT_ROOMS, k.AUDIT_SIZES, k.AUDIT_TOTAL, k.AUDIT_IDS])
        assert found == sorted([k.room("a"), k.log("a"), k.room("b"), k.log("b"), k.ROOMS, k.TIMERS, *audit_keys])
        for key in found:
            ttl = await raw.pttl(key)
            assert 0 < ttl, key
            limit = 30 * 86_400_000 if key in audit_keys else k.ROOM_IDLE_TTL_MS
            assert ttl <= limit, key
        await store.delete_room("a")
        after = sorted([key async for key in raw.scan_iter("*")])
        assert not [key for key in after if key.endswith(":a") and key not in audit_keys]
        assert await raw.sismember(k.ROOMS, "a") == 0 and await raw.zscore(k.TIMERS, "a") is None
        await store.delete_room("b")
        # The audit outlives its room for its retention period (its TTL, above).
        assert sorted([key async for key in raw.scan_iter("*")]) == audit_keys
        # The on-call rota is no room's, and has a TTL of its own.
        await store.save_rota([])
        assert 0 < await raw.pttl(k.ROTA) <= k.ROTA_TTL_MS
    finally:
        await store.close()


async def test_redis_writes_nothing_to_disk(redis_server: RedisServer, redis_url: str, raw: aioredis.Redis) -> None:
    assert (await raw.config_get("save"))["save"] == ""
    assert (await raw.config_get("appendonly"))["appendonly"] == "no"
    store = RedisStore.from_url(redis_url)
    try:
        state = await make(store)
        await commit(store, bulk(state, 50, "chat.message"), state.version)
    finally:
        await store.close()
    assert redis_server.files_on_disk() == []


async def test_a_retried_commit_is_applied_once(redis_url: str) -> None:
    """The reply of a commit may be lost after Redis applied it; the client's retry
    sends the same script and arguments again and must not append the events twice."""
    store = RedisStore.from_url(redis_url)
    try:
        state = await make(store)
        out = bulk(state, 2)
        args = store._commit_args(state.version, out, None)
        script_keys = store._commit_keys("circle")
        assert await store._commit(keys=script_keys, args=args) == 1
        assert await store._commit(keys=script_keys, args=args) == 1
        assert [e.seq for e in await store.events_after("circle", 0) or []] == [1, 2]
        # A different commit from the same old version is still refused.
        assert not await store.commit(state.version, bulk(state, 2), None)
    finally:
        await store.close()


async def test_an_unreachable_redis_answers_unavailable_quickly() -> None:
    store = RedisStore.from_url(f"redis://127.0.0.1:{free_port()}/0")
    try:
        for call in (store.ping(), store.load("circle"), store.commit(0, bulk(room(), 1), None),
                     store.events_after("circle", 0), store.due_rooms(T0)):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                await call
            assert time.monotonic() - started < 2.5
    finally:
        await store.close()


async def test_a_silent_redis_times_out_instead_of_hanging(redis_server: RedisServer, redis_url: str) -> None:
    """A Redis that accepts the connection but never answers (stopped with SIGSTOP)."""
    store = RedisStore.from_url(redis_url)
    await store.ping()
    assert redis_server.proc is not None
    redis_server.proc.send_signal(19)  # SIGSTOP
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await store.load("circle")
        assert time.monotonic() - started < 2.5
    finally:
        redis_server.proc.send_signal(18)  # SIGCONT
        await store.close()


async def test_unix_socket_url(redis_server: RedisServer, redis_url: str) -> None:
    store = RedisStore.from_url(redis_server.unix_url)
    try:
        await store.ping()
        await make(store)
        assert await store.room_ids() == ["circle"]
    finally:
        await store.close()


@pytest.fixture
def sentinel(redis_server: RedisServer, tmp_path: Path) -> Iterator[int]:
    """A redis-sentinel watching the test Redis as the primary of service ``circles``."""
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
                    f"sentinel monitor circles 127.0.0.1 {redis_server.port} 1\n")
    proc = subprocess.Popen([redis_server.binary, str(conf), "--sentinel"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with redis.Redis(host="127.0.0.1", port=port) as s:
                    if s.execute_command("SENTINEL", "get-master-addr-by-name", "circles"):
                        break
            except redis.ConnectionError:
                pass
            assert time.monotonic() < deadline, "sentinel did not start"
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_sentinel_url_finds_the_primary(sentinel: int, redis_url: str) -> None:
    # The first sentinel listed is down: the client asks the next one.
    store = RedisStore.from_url(f"redis+sentinel://127.0.0.1:{free_port()},127.0.0.1:{sentinel}/circles")
    try:
        await make(store)
    finally:
        await store.close()
    plain = RedisStore.from_url(redis_url)
    try:
        assert await plain.room_ids() == ["circle"]  # it wrote to the primary
    finally:
        await plain.close()


async def test_webhook_calls_wait_in_the_outbox_until_acknowledged(store: Store) -> None:
    state = await make(store)
    call = {"room": "circle", "participant_id": "ana", "waiting_since": T0, "tier": 2, "at": T0}
    out = bulk(state, 1)
    out = Outcome(state=out.state, events=out.events, notices=(
        Notice("oncall.escalated", Target("webhook"), call),
        Notice("oncall.page", Target("staff"), {"tier": 2}),  # not a webhook: not stored
    ))
    state = await commit(store, out, state.version)
    # A stale commit writes nothing to the outbox either.
    assert not await store.commit(0, out, None)

    [item] = await store.claim_outbox(lease_ms=60_000)
    assert item.data == call and item.tries == 1
    assert await store.claim_outbox(lease_ms=60_000) == []  # claimed: hidden from others
    await store.ack_outbox(item.key)
    assert await store.claim_outbox(lease_ms=0) == []

    # A claimer that dies leaves the call to the next one once its lease runs out.
    await commit(store, Outcome(state=bulk(state, 1).state, notices=(
        Notice("oncall.escalated", Target("webhook"), call),)), state.version)
    [first] = await store.claim_outbox(lease_ms=0)  # a lease that has already run out
    [again] = await store.claim_outbox(lease_ms=60_000)
    assert again.key == first.key and again.tries == 2
    await store.ack_outbox(again.key)
    assert await store.claim_outbox(lease_ms=0) == []


async def test_client_ids_are_kept_beside_the_state_newest_first_and_go_with_the_room(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import server.store.memory as memory_store
    import server.store.redis as redis_store
    monkeypatch.setattr(memory_store, "CLIENT_IDS_KEPT", 3)
    monkeypatch.setattr(redis_store, "CLIENT_IDS_KEPT", 3)
    state = await make(store)
    assert await store.load_with_client_id("circle", "ana\x00k0") == (state, None)
    for i in range(4):
        out = bulk(state, 1)
        state = await commit(store, Outcome(state=out.state, events=out.events,
                                            client_ids=((f"ana\x00k{i}", out.state.seq),)), state.version)
    loaded, seen = await store.load_with_client_id("circle", "ana\x00k3")
    assert loaded is not None and loaded.seq == state.seq and seen == state.seq
    assert (await store.load_with_client_id("circle", "ana\x00k0"))[1] is None  # the oldest went
    assert (await store.load_with_client_id("circle", "ana\x00k1"))[1] == state.seq - 2
    # A held message's id, later approved, gets its seq in place (it stays as old as it was).
    out = bulk(state, 1)
    state = await commit(store, Outcome(state=out.state, events=out.events,
                                        client_ids=(("ana\x00k1", out.state.seq),)), state.version)
    assert (await store.load_with_client_id("circle", "ana\x00k1"))[1] == state.seq
    # The state itself carries none of it.
    assert "client_ids" not in state.to_dict()
    await store.delete_room("circle")
    assert await store.load_with_client_id("circle", "ana\x00k3") == (None, None)


async def test_the_memory_store_never_forgets_an_idle_oncall_room() -> None:
    from server.clock import ManualClock as _Clock
    clock = _Clock()
    store = MemoryStore(clock=clock)
    for rid, kind in (("oncall", "oncall"), ("quiet-circle", "circle")):
        assert await store.create_room(RoomState(id=rid, kind=kind, settings=Settings(), created_at=clock.now_ms()))
    await clock.advance(k.ROOM_IDLE_TTL_MS + 1)
    assert await store.load("oncall") is not None
    assert await store.load("quiet-circle") is None

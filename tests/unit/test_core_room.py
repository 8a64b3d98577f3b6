"""The pure core: membership, chat, ordering, moderation controls. No IO, no asyncio."""

from __future__ import annotations

import json

import pytest

from server.core import commands as c
from server.core.errors import CommandError
from server.core.model import RoomState, Settings
from server.core.room import client_key
from server.core.rules import apply, snapshot

T0 = 1_700_000_000_000
FAC = c.Actor("fac", "Asha", "facilitator", "w:f")
ANA = c.Actor("ana", "Ana", "member", "w:a")
BEN = c.Actor("ben", "Ben", "member", "w:b")
RES = c.Actor("res", "Ravi", "responder", "w:r")


def room(**settings: object) -> RoomState:
    return RoomState(id="circle-1", kind="circle", settings=Settings().updated(settings), created_at=T0)


def run(state: RoomState, actor: c.Actor, cmd: c.Command, now: int = T0):  # type: ignore[no-untyped-def]
    return apply(state, actor, cmd, now)


def joined(*actors: c.Actor, **settings: object) -> RoomState:
    s = room(**settings)
    for a in actors:
        s = run(s, a, c.Join()).state
    return s


def test_join_appends_events_with_rising_seq() -> None:
    s = room()
    seqs = []
    for a in (FAC, ANA, BEN):
        o = run(s, a, c.Join())
        s = o.state
        assert [e.type for e in o.events] == ["participant.joined"]
        seqs.append(o.events[0].seq)
    assert seqs == [1, 2, 3]
    assert list(s.participants) == ["fac", "ana", "ben"]


def test_refused_command_leaves_state_unchanged() -> None:
    s = joined(FAC, ANA)
    before = json.dumps(s.to_dict(), sort_keys=True)
    with pytest.raises(CommandError) as e:
        run(s, ANA, c.FloorRevoke())
    assert e.value.code == "forbidden"
    with pytest.raises(CommandError) as e:
        run(s, BEN, c.HandRaise())
    assert e.value.code == "not_joined"
    assert json.dumps(s.to_dict(), sort_keys=True) == before


def test_chat_message_and_idempotent_client_id() -> None:
    s = joined(ANA, BEN)
    o = run(s, ANA, c.Chat(text="hello", msg_id="m1", client_id="k1"))
    assert o.events[0].type == "chat.message"
    assert o.events[0].data == {"id": "m1", "from": "ana", "text": "hello", "redacted": False, "reply_to": None}
    # The store is told to remember the sender's client_id with the message's seq...
    assert o.client_ids == ((client_key("ana", "k1"), o.events[0].seq),)
    # ...and a retry, read with what the store remembers, is the same message.
    again = run(o.state, ANA, c.Chat(text="hello", msg_id="m2", client_id="k1", seen=o.events[0].seq))
    assert again.events == () and again.client_ids == ()
    assert again.reply["duplicate_of"] == o.events[0].seq
    # The same client_id from another person is another message (the store has nothing
    # for Ben's key).
    other = run(o.state, BEN, c.Chat(text="hi", msg_id="m3", client_id="k1"))
    assert len(other.events) == 1


def test_chat_modes_and_muted() -> None:
    s = joined(FAC, ANA, chat="facilitators")
    with pytest.raises(CommandError) as e:
        run(s, ANA, c.Chat(text="x", msg_id="m"))
    assert e.value.code == "forbidden"
    assert run(s, FAC, c.Chat(text="x", msg_id="m")).events
    s = run(joined(FAC, ANA), FAC, c.Mute("ana", True)).state
    with pytest.raises(CommandError) as e:
        run(s, ANA, c.Chat(text="x", msg_id="m"))
    assert e.value.code == "muted"


def test_held_message_is_not_logged_until_approved() -> None:
    s = joined(FAC, ANA)
    o = run(s, ANA, c.Chat(text="see example.org", msg_id="h1", client_id="k", action="hold", reason="link"))
    assert o.events == ()
    assert o.refusal is not None and o.refusal.code == "held"
    assert [n.event for n in o.notices] == ["chat.held"]
    assert o.notices[0].data["text"] == "see example.org"
    assert all("example.org" not in str(a) for a in o.audit)
    # The text goes to the store beside the state, not into the state every commit rewrites.
    assert o.held_texts == (("h1", "see example.org"),)
    assert "example.org" not in str(o.state.to_dict())
    s = o.state
    approved = run(s, FAC, c.ChatReview(id="h1", approve=True, text="see example.org"))
    assert [e.type for e in approved.events] == ["chat.message"]
    assert approved.events[0].actor == "ana" and approved.events[0].data["text"] == "see example.org"
    assert approved.held_dropped == ("h1",)
    rejected = run(s, FAC, c.ChatReview(id="h1", approve=False))
    assert rejected.events == () and "h1" not in rejected.state.held and rejected.held_dropped == ("h1",)
    # A text the store no longer has cannot be posted; it can still be rejected.
    with pytest.raises(CommandError) as e:
        run(s, FAC, c.ChatReview(id="h1", approve=True, text=None))
    assert e.value.code == "not_found"


def test_lobby_admit_and_deny() -> None:
    s = joined(FAC, lobby=True)
    o = run(s, ANA, c.Join())
    assert o.refusal is not None and o.refusal.code == "lobby"
    assert [n.event for n in o.notices] == ["lobby.waiting"]
    assert "ana" in o.state.lobby and "ana" not in o.state.participants
    admitted = run(o.state, FAC, c.LobbyAdmit("ana"))
    assert [n.event for n in admitted.notices] == ["lobby.left", "lobby.admitted"]
    inside = run(admitted.state, ANA, c.Join())
    assert inside.refusal is None and "ana" in inside.state.participants
    denied = run(o.state, FAC, c.LobbyDeny("ana"))
    assert [n.event for n in denied.notices] == ["lobby.left", "lobby.denied"]
    assert "ana" not in denied.state.lobby


def test_facilitator_is_never_held_back() -> None:
    s = joined(ANA, max_participants=1)
    s = run(s, c.SYSTEM, c.ChangeSettings({"lobby": True, "locked": True})).state
    o = run(s, FAC, c.Join())
    assert o.refusal is None and "fac" in o.state.participants


def test_locked_and_full() -> None:
    with pytest.raises(CommandError) as e:
        run(joined(FAC, locked=True), ANA, c.Join())
    assert e.value.code == "locked"
    with pytest.raises(CommandError) as e:
        run(joined(ANA, max_participants=1), BEN, c.Join())
    assert e.value.code == "full"


def test_ban_sticks_and_kick_goes_through_lobby() -> None:
    s = joined(FAC, ANA, BEN)
    banned = run(s, FAC, c.Remove("ana", ban=True, reason="disruptive"))
    assert banned.events[-1].data == {"participant_id": "ana", "reason": "banned"}
    assert [n.event for n in banned.notices] == ["removed"]
    with pytest.raises(CommandError) as e:
        run(banned.state, c.Actor("ana", "Ana again", "member", "w:x"), c.Join())
    assert e.value.code == "banned"
    kicked = run(s, FAC, c.Remove("ben"))
    back = run(kicked.state, BEN, c.Join())
    assert back.refusal is not None and back.refusal.code == "lobby"


def test_replacing_connection_and_late_disconnect() -> None:
    s = joined(ANA)
    phone = c.Actor("ana", "Ana", "member", "w:phone")
    o = run(s, phone, c.Join())
    assert [n.event for n in o.notices] == ["removed"]
    assert o.notices[0].to.conn == "w:a"
    # The old connection's disconnect arrives late: the new one stays connected.
    late = run(o.state, ANA, c.Disconnect())
    assert late.state.participants["ana"].connected


def test_disconnect_then_grace_expiry() -> None:
    s = joined(ANA, BEN, reconnect_grace_seconds=30)
    s = run(s, ANA, c.HandRaise()).state
    assert s.floor is not None and s.floor.participant_id == "ana"
    s = run(s, ANA, c.Disconnect(), T0 + 1000).state
    assert s.floor is not None and s.floor.participant_id == "ana"
    assert not s.participants["ana"].connected
    early = run(s, c.SYSTEM, c.Tick(), T0 + 30_999)
    assert not early.changed
    late = run(s, c.SYSTEM, c.Tick(), T0 + 31_000)
    types = [e.type for e in late.events]
    assert types == ["floor.released", "participant.left"]
    assert late.events[1].data["reason"] == "disconnected"
    assert "ana" not in late.state.participants and late.state.floor is None


def test_reconnect_within_grace_keeps_floor() -> None:
    s = joined(ANA, BEN)
    s = run(s, ANA, c.HandRaise()).state
    s = run(s, ANA, c.Disconnect(), T0 + 1000).state
    back = run(s, c.Actor("ana", "Ana", "member", "w:new"), c.Join(), T0 + 5000)
    assert back.state.floor is not None and back.state.floor.participant_id == "ana"
    assert back.state.participants["ana"].connected
    assert [e.type for e in back.events] == ["participant.updated"]


def test_end_room_refuses_everything_after() -> None:
    s = joined(FAC, ANA)
    o = run(s, FAC, c.EndRoom())
    assert [e.type for e in o.events] == ["room.ended"]
    with pytest.raises(CommandError) as e:
        run(o.state, ANA, c.Chat(text="x", msg_id="m"))
    assert e.value.code == "not_found"


def test_audit_entries_never_hold_text() -> None:
    s = joined(FAC, ANA)
    o = run(s, ANA, c.Chat(text="my number is secret", msg_id="m", action="block", reason="blocked_term",
                           alerts=(c.ModerationAlert("blocked", "blocked term"),)))
    assert o.refusal is not None and o.refusal.code == "blocked"
    assert o.audit and all("secret" not in json.dumps(a.to_wire()) for a in o.audit)


def test_snapshot_shows_lobby_only_to_staff() -> None:
    s = run(joined(FAC, lobby=True), ANA, c.Join()).state
    assert "lobby" in snapshot(s, "facilitator", [])
    assert "lobby" not in snapshot(s, "member", [])
    assert "lobby" not in snapshot(s, "responder", [])


def test_responder_is_staff_only_in_oncall_rooms() -> None:
    s = joined(RES, ANA)
    with pytest.raises(CommandError) as e:
        run(s, RES, c.FloorRevoke())
    assert e.value.code == "forbidden"
    oncall = RoomState(id="oncall", kind="oncall", settings=Settings(), created_at=T0)
    for a in (RES, ANA):
        oncall = run(oncall, a, c.Join()).state
    assert run(oncall, RES, c.Mute("ana", True)).events


def test_state_roundtrips_through_json() -> None:
    s = joined(FAC, ANA, BEN)
    s = run(s, ANA, c.HandRaise()).state
    s = run(s, BEN, c.HandRaise()).state
    s = run(s, BEN, c.Chat(text="x", msg_id="h", action="hold", client_id="q")).state
    assert RoomState.from_dict(json.loads(json.dumps(s.to_dict()))) == s


def test_settings_validation() -> None:
    s = joined(FAC)
    for bad in ({"share_seconds": 5}, {"overrun": "explode"}, {"nope": 1}, {"lobby": "yes"}):
        with pytest.raises(CommandError) as e:
            run(s, FAC, c.ChangeSettings(bad))
        assert e.value.code == "invalid"
    o = run(s, FAC, c.ChangeSettings({"share_seconds": None}))
    assert o.state.settings.share_seconds is None
    assert o.events[0].type == "settings.changed"


def test_rate_limited_message_may_be_retried_later() -> None:
    s = joined(FAC, ANA)
    o = run(s, ANA, c.Chat(text="x", msg_id="m", client_id="k", action="block", reason="rate_limited",
                           alerts=(c.ModerationAlert("flood", "more than 5 messages in 10 s"),)))
    assert o.refusal is not None and o.refusal.code == "rate_limited"
    assert [n.data["kind"] for n in o.notices] == ["flood"]
    later = run(o.state, ANA, c.Chat(text="x", msg_id="m2", client_id="k"))
    assert [e.type for e in later.events] == ["chat.message"]


# -- issue 12: what one bad link holder could do ---------------------------------------------

def test_a_settings_change_does_not_admit_a_removed_person() -> None:
    # Issue 12, item 3: remove (no ban), they knock again, the facilitator changes only
    # the share length: they must still be waiting, and no audit says they were admitted.
    s = run(joined(FAC, ANA), FAC, c.Remove("ana")).state
    s = run(s, ANA, c.Join()).state
    assert "ana" in s.lobby
    o = run(s, FAC, c.ChangeSettings({"share_seconds": 120}))
    assert "ana" in o.state.lobby and "ana" not in o.state.admitted
    assert not [a for a in o.audit if a.action == "lobby.admit"]
    assert "lobby.admitted" not in [n.event for n in o.notices]
    # Nor does opening the lobby door: a kick is only undone by an explicit admit.
    o = run(s, FAC, c.ChangeSettings({"lobby": False}))
    assert "ana" in o.state.lobby


def test_turning_the_lobby_off_still_lets_in_who_was_waiting() -> None:
    s = joined(FAC, lobby=True)
    s = run(s, ANA, c.Join()).state
    o = run(s, FAC, c.ChangeSettings({"lobby": False}))
    assert "ana" not in o.state.lobby and "ana" in o.state.admitted
    # ...but a later, unrelated change never admits anyone.
    s = run(o.state, BEN, c.Join()).state
    s = run(s, FAC, c.Remove("ben")).state
    s = run(s, BEN, c.Join()).state
    assert "ben" in run(s, FAC, c.ChangeSettings({"warn_seconds": 10})).state.lobby


def test_deleted_text_stays_deleted_as_long_as_any_store_keeps_the_event() -> None:
    # Issue 12, item 4: the deleted list was cut to 1000 events while stores keep 2000.
    from server.core.model import LOG_KEPT
    s = joined(FAC, ANA)
    first = run(s, ANA, c.Chat(text="private words", msg_id="m1"))
    s = first.state
    gone = first.events[0].seq
    s = run(s, FAC, c.ChatDelete(seq=gone)).state
    for i in range(LOG_KEPT - 10):
        s = run(s, FAC, c.Reaction(kind="clap"), T0 + i).state
    later = run(s, ANA, c.Chat(text="again", msg_id="m2")).state
    later = run(later, FAC, c.ChatDelete(seq=later.seq)).state
    assert gone in later.deleted


def test_chat_text_refuses_control_characters_and_drops_bidi_overrides() -> None:
    # Issue 12, item 9: NUL, ESC and right-to-left overrides in chat.
    s = joined(ANA)
    for bad in ("hi\x00there", "\x1b[31mred", "a\x7fb"):
        with pytest.raises(CommandError) as e:
            run(s, ANA, c.Chat(text=bad, msg_id="x"))
        assert e.value.code == "invalid"
    o = run(s, ANA, c.Chat(text="ok \u202egnirts\u202c\nsecond line\tend", msg_id="y"))
    assert o.events[0].data["text"] == "ok gnirts\nsecond line\tend"


@pytest.mark.parametrize("name", ["Fay\u200b", "\u202eyaF", "F\u00aday", "Ｆａｙ", "Fay\u2060"])
def test_names_are_normalised_so_nobody_can_pass_for_someone_else(name: str) -> None:
    # Issue 12, item 9: "Fay" plus a zero-width space beside the facilitator "Fay".
    from server.core.model import clean_name
    cleaned = clean_name(name)
    assert cleaned in ("Fay", "yaF")
    assert all(ch.isprintable() for ch in cleaned)


def test_a_name_that_is_only_invisible_characters_is_refused() -> None:
    from server.core.model import clean_name
    with pytest.raises(CommandError):
        clean_name("\u200b\u200b\u202e")


def test_a_room_made_by_a_join_ends_once_it_has_been_empty_for_a_while() -> None:
    # Issue 12, item 11: rooms a `*` facilitator's socket made outlived it, without bound.
    from server.core.model import EMPTY_ROOM_MS
    from server.core.rules import next_deadline
    s = RoomState(id="made-by-join", kind="circle", settings=Settings(), created_at=T0,
                  ephemeral=True, empty_since=T0)
    s = run(s, FAC, c.Join(), T0 + 1000).state
    assert s.empty_since is None and next_deadline(s) is None
    s = run(s, ANA, c.Join(), T0 + 2000).state
    s = run(s, FAC, c.Leave(), T0 + 3000).state
    assert s.empty_since is None  # Ana is still there
    s = run(s, ANA, c.Leave(), T0 + 4000).state
    assert s.empty_since == T0 + 4000 and next_deadline(s) == T0 + 4000 + EMPTY_ROOM_MS
    assert not run(s, c.SYSTEM, c.Tick(), T0 + 4000 + EMPTY_ROOM_MS - 1).changed
    o = run(s, c.SYSTEM, c.Tick(), T0 + 4000 + EMPTY_ROOM_MS)
    assert o.state.ended and [e.type for e in o.events] == ["room.ended"]
    assert [(a.action, a.reason) for a in o.audit] == [("room.end", "empty")]
    # Coming back in time keeps it.
    back = run(s, ANA, c.Join(), T0 + 5000).state
    assert not run(back, c.SYSTEM, c.Tick(), T0 + 4000 + EMPTY_ROOM_MS).state.ended


def test_a_room_someone_set_up_does_not_end_when_empty() -> None:
    from server.core.rules import next_deadline
    s = run(joined(ANA), ANA, c.Leave(), T0 + 10).state
    assert next_deadline(s) is None
    assert not run(s, c.SYSTEM, c.Tick(), T0 + 365 * 86_400_000).state.ended


def test_a_disconnected_member_in_grace_keeps_the_room() -> None:
    from server.core.rules import next_deadline
    s = RoomState(id="made-by-join", kind="circle", settings=Settings(), created_at=T0, ephemeral=True,
                  empty_since=T0)
    s = run(s, ANA, c.Join(), T0).state
    s = run(s, ANA, c.Disconnect(), T0 + 1).state
    assert s.empty_since is None
    s = run(s, c.SYSTEM, c.Tick(), next_deadline(s) or 0).state  # grace runs out
    assert not s.participants and s.empty_since is not None


def test_chat_delete_refuses_a_seq_that_is_not_a_message() -> None:
    # Issue 15: the service reads the log (is it a chat message?) and the core decides.
    s = joined(FAC, ANA)
    s = run(s, ANA, c.Chat(text="hello", msg_id="m1")).state
    with pytest.raises(CommandError) as e:
        run(s, FAC, c.ChatDelete(seq=1, is_message=False))
    assert e.value.code == "not_found"
    # Who may delete comes first: a member is refused whatever the seq is.
    with pytest.raises(CommandError) as e:
        run(s, ANA, c.ChatDelete(seq=1, is_message=False))
    assert e.value.code == "forbidden"

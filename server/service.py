"""The service: load state, apply the core, commit atomically, publish.

This is the one place that does it, for the socket gateway, the admin API and the
timers alike. It holds no room state of its own: everything is in the store, so any
number of workers can run it side by side.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from moderation.pipeline import Pipeline
from moderation.verdict import Action, MessageContext, Verdict

from .attendance import Attendance, AttendanceConfig
from .clock import Clock
from .core import commands as c
from .core import rules
from .core.errors import CommandError
from .core.model import (
    LOG_KEPT,
    RECENT_CHAT,
    ROOM_ID_MESSAGE,
    Event,
    Notice,
    RoomState,
    Settings,
    Target,
    clean_text,
    valid_room_id,
)
from .core.outcome import Outcome
from .core.room import TOO_FAST, client_key, is_staff
from .store import Store, StoreUnavailable

log = logging.getLogger("circles.service")

# Optimistic commits retry on a version clash; a room busy enough to lose this many
# races in a row answers `conflict` rather than spin.
COMMIT_ATTEMPTS: Final = 20

# Rooms the store may hold at once; past it, new rooms are refused (`full`), and the
# rooms that exist go on. A centre runs tens of circles; a thousand is far beyond one
# deployment's need, and small enough that a link holder cannot fill memory with rooms.
MAX_ROOMS: Final = 1000
# Rooms one person's joins may create in an hour on this worker (a facilitator opening
# the week's circles makes a handful); rooms made this way end once empty.
ROOMS_MADE_PER_HOUR: Final = 10
HOUR_MS: Final = 3_600_000

# Private notices that send someone to another room (``room`` in their data): each is
# given a token for that room, minted for its person as the room they leave knows them.
MOVES: Final = frozenset({"oncall.moved", "groups.moved"})

# Reads the room again for a retry, with whatever else the command depends on.
Reload = Callable[[c.Command], Awaitable[tuple[RoomState, c.Command]]]


class Publisher(Protocol):
    """Delivers committed events and private notices to every worker's clients."""

    async def publish(self, room_id: str, events: Sequence[Event], notices: Sequence[Notice]) -> None: ...


@dataclass(frozen=True)
class Helpline:
    name: str
    phone: str
    hours: str = ""

    def to_wire(self) -> dict[str, str]:
        return {"name": self.name, "phone": self.phone, "hours": self.hours}


@dataclass(frozen=True)
class CrisisSupport:
    """Where a person in crisis is pointed (contract §8)."""

    oncall_room: str | None
    helplines: tuple[Helpline, ...]
    # Called first when the danger is medical (an overdose, a seizure): an ambulance
    # before a conversation.
    emergency: Helpline = Helpline(name="Emergency: ambulance (112)", phone="112", hours="24x7")

    def offer(self, room: str, category: str | None = None) -> dict[str, Any]:
        lines = (self.emergency, *self.helplines) if category == "medical" else self.helplines
        out: dict[str, Any] = {"room": room, "oncall_room": self.oncall_room,
                               "helplines": [h.to_wire() for h in lines]}
        if category is not None:
            out["category"] = category
        return out


@dataclass
class JoinResult:
    outcome: Outcome
    snapshot: dict[str, Any] = field(default_factory=dict)
    missed: list[dict[str, Any]] | None = None

    @property
    def seq(self) -> int:
        return self.outcome.state.seq


def _alerts(verdict: Verdict) -> tuple[c.ModerationAlert, ...]:
    return tuple(c.ModerationAlert(a.kind, a.detail) for a in verdict.alerts)


def _wire(events: Sequence[Event], deleted: set[int]) -> list[dict[str, Any]]:
    """Events as clients get them; a deleted message keeps its place but not its text."""
    out = []
    for e in events:
        d = e.to_wire()
        if e.type == "chat.message" and e.seq in deleted:
            d["data"] = {**d["data"], "text": "", "deleted": True}
        out.append(d)
    return out


class RoomService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        publisher: Publisher,
        pipeline_for: Callable[[str], Pipeline],
        crisis: CrisisSupport,
        new_id: Callable[[], str] = lambda: secrets.token_hex(8),
        on_deadline: Callable[[int | None], None] = lambda at: None,
        observe: Callable[[Outcome], None] = lambda o: None,
        page_webhook: Callable[[], None] = lambda: None,
        mint_token: Callable[[str, str, str, str], str] | None = None,
        max_rooms: int = MAX_ROOMS,
        rooms_made_per_hour: int = ROOMS_MADE_PER_HOUR,
        configured: Mapping[str, tuple[str, str, Mapping[str, Any]]] | None = None,
        attendance: AttendanceConfig | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.publisher = publisher
        self.pipeline_for = pipeline_for
        self.crisis = crisis
        self.new_id = new_id
        self.on_deadline = on_deadline
        self.observe = observe
        self.page_webhook = page_webhook
        # Mints a short-lived token to the on-call room for the crisis offer, so that a
        # member whose token is for their circle can go there in one tap.
        self.mint_token = mint_token
        self.max_rooms = max_rooms
        self.rooms_made_per_hour = rooms_made_per_hour
        # person -> when their joins made rooms (this worker, the last hour)
        self._made: dict[str, list[int]] = {}
        # The deployment's configured rooms (id -> kind, title, settings): they always
        # exist. One that is missing (its keys expired after a quiet week, Redis came back
        # empty, an admin ended it) is made again the moment anyone asks for it.
        self.configured: dict[str, tuple[str, str, Mapping[str, Any]]] = dict(configured or {})
        # Attendance (``[attendance]``): recorded after each commit of a room it is on for.
        self.attendance = Attendance(store, clock, attendance, load=self.store.load) if attendance else None

    # -- rooms ---------------------------------------------------------------------------

    async def ensure_configured(self, room_id: str | None = None) -> None:
        """Make the configured rooms (or only ``room_id``) that the store lacks."""
        for rid, (kind, title, settings) in self.configured.items():
            if room_id is not None and rid != room_id:
                continue
            try:
                await self.create_room(rid, kind, title, settings, configured=True)
                log.info("configured room made", extra={"room": rid})
            except CommandError as e:
                if e.code != "conflict":  # conflict: it is there, as it should be
                    raise

    async def _load_or_make(self, room_id: str) -> RoomState | None:
        state = await self._guard(self.store.load(room_id))
        if state is None and room_id in self.configured:
            await self.ensure_configured(room_id)
            state = await self._guard(self.store.load(room_id))
        return state

    async def create_room(self, room_id: str, kind: str = "circle", title: str = "",
                          settings: Mapping[str, Any] | None = None, ephemeral: bool = False,
                          configured: bool = False) -> RoomState:
        """A new room; ``ephemeral`` when a facilitator's join makes it (it ends once
        empty); ``configured`` rooms are never refused for the room limit (the on-call
        room must open however many rooms others made)."""
        if not valid_room_id(room_id):
            raise CommandError("invalid", ROOM_ID_MESSAGE)
        changes = dict(settings or {})
        if title:
            changes["title"] = title
        now = self.clock.now_ms()
        state = RoomState(id=room_id, kind=kind, settings=Settings().updated(changes), created_at=now,
                          ephemeral=ephemeral, empty_since=now if ephemeral else None)
        if not configured and len(await self._guard(self.store.room_ids())) >= self.max_rooms:
            raise CommandError("full", "the server holds as many rooms as it may; end one first")
        deadline = rules.next_deadline(state)
        if not await self._guard(self.store.create_room(state, deadline)):
            raise CommandError("conflict", "a room with that id exists")
        return state

    async def load(self, room_id: str) -> RoomState:
        state = await self._load_or_make(room_id)
        if state is None or state.ended:
            raise CommandError("not_found", "no such room")
        return state

    async def _load_chat(self, room_id: str, key: str | None) -> tuple[RoomState, int | None]:
        """The room and, in the same read, what it remembers of a sender's client_id."""
        if key is None:
            return await self.load(room_id), None
        state, seen = await self._guard(self.store.load_with_client_id(room_id, key))
        if state is None and room_id in self.configured:
            state, seen = await self._load_or_make(room_id), None
        if state is None or state.ended:
            raise CommandError("not_found", "no such room")
        return state, seen

    async def _guard(self, aw: Any) -> Any:
        try:
            return await aw
        except StoreUnavailable:
            raise CommandError("unavailable", "the server cannot reach its store; try again shortly") from None

    # -- the one path every change takes ---------------------------------------------------

    async def _with_held_text(self, room_id: str, command: c.Command) -> tuple[RoomState, c.Command]:
        """The room, and a review command carrying its held message's text (kept by the
        store beside the state)."""
        state = await self.load(room_id)
        assert isinstance(command, c.ChatReview)
        text = None
        if command.id in state.held:
            text = (await self._guard(self.store.held_texts(room_id, [command.id]))).get(command.id)
        return state, dataclasses.replace(command, text=text)

    async def execute(self, room_id: str, actor: c.Actor, command: c.Command,
                      extra_notices: Callable[[Outcome], Sequence[Notice]] = lambda o: (),
                      loaded: RoomState | None = None, reload: Reload | None = None) -> Outcome:
        """Apply ``command`` and commit it; ``loaded`` saves the first read when the
        caller has just loaded the room (a stale copy only costs a retry); ``reload``
        reads the room again for a retry when the command depends on more than it."""
        if isinstance(command, c.ChatReview) and reload is None:
            loaded, reload = None, functools.partial(self._with_held_text, room_id)
        for _ in range(COMMIT_ATTEMPTS):
            if loaded is not None:
                state = loaded
            elif reload is not None:
                state, command = await reload(command)
            else:
                state = await self.load(room_id)
            loaded = None
            now = self.clock.now_ms()
            outcome = rules.apply(state, actor, command, now)
            if not outcome.changed:
                return outcome
            deadline = rules.next_deadline(outcome.state)
            if await self._guard(self.store.commit(state.version, outcome, deadline)):
                break
        else:
            raise CommandError("conflict", "the room is very busy; try again")
        for made in outcome.opened:
            # A room the command made (a private 1:1 room, a small group) exists before
            # anyone is told of it.
            made_deadline = rules.next_deadline(made)
            if not await self._guard(self.store.create_room(made, made_deadline)):
                raise CommandError("conflict", "a room with that id exists")
            self.on_deadline(made_deadline)
        # Webhook calls were written to the store's outbox by the commit; the pager
        # makes them (``pager.py``). Everything else is delivered now.
        notices = [self._with_token(n, outcome.state)
                   for n in (*outcome.notices, *extra_notices(outcome)) if n.to.kind not in ("webhook", "service")]
        if any(n.to.kind == "webhook" for n in outcome.notices):
            self.page_webhook()
        await self.publisher.publish(room_id, outcome.events, notices)
        if self.attendance is not None:
            try:
                await self.attendance.after_commit(state, outcome, now)
            except Exception:  # attendance must never fail the command that committed
                log.exception("attendance not recorded", extra={"room": room_id})
        self.observe(outcome)
        self.on_deadline(deadline)
        if outcome.state.ended:
            await self._guard(self.store.delete_room(room_id))
        for closed in outcome.closed:
            await self._close(closed)
        return outcome

    def _with_token(self, notice: Notice, state: RoomState) -> Notice:
        """A notice that moves someone (``MOVES``) with their token to the room it names."""
        if notice.event not in MOVES or self.mint_token is None or notice.to.kind != "participant":
            return notice
        p = state.participants.get(notice.to.participant)
        if p is None:
            return notice
        token = self.mint_token(p.id, p.name, notice.data["room"], p.role)
        return dataclasses.replace(notice, data={**notice.data, "token": token})

    async def _close(self, room_id: str) -> None:
        """End a room the committed command closed (a small group, once its people were
        told to come back). One already gone is fine; one that cannot be ended now ends
        by its own clock (``core.groups.FALLBACK_MS``), so this never fails the command."""
        try:
            await self.execute(room_id, c.SYSTEM, c.EndRoom())
        except CommandError as e:
            if e.code != "not_found":
                log.warning("could not end a closed room", extra={"room": room_id, "code": e.code})

    async def tick(self, room_id: str) -> None:
        try:
            await self.execute(room_id, c.SYSTEM, c.Tick())
        except CommandError as e:
            if e.code != "not_found":
                raise

    # -- join --------------------------------------------------------------------------------

    async def join(self, room_id: str, actor: c.Actor, since: int | None, how: c.Join | None = None) -> JoinResult:
        """``how``: the join's own choices (accepting the guidelines, new or returning)."""
        state = await self._load_or_make(room_id)
        if state is None or state.ended:
            if actor.role != "facilitator":
                raise CommandError("not_found", "no such room")
            self._may_make_room(actor)
            try:
                await self.create_room(room_id, ephemeral=True)
            except CommandError as e:
                if e.code != "conflict":  # another worker made it first: fine
                    raise
        kind = state.kind if state is not None else "circle"

        def extra(o: Outcome) -> Sequence[Notice]:
            return self._oncall_offer(o, actor) if kind == "oncall" and actor.role == "member" else ()

        outcome = await self.execute(room_id, actor, how or c.Join(), extra)
        result = JoinResult(outcome)
        if outcome.refusal is not None:
            return result
        st = outcome.state
        upto = st.seq
        # Nothing older than LOG_KEPT is served, whatever a store still holds: that is as
        # far back as the room remembers which messages were deleted.
        oldest = upto - LOG_KEPT
        recent = [e for e in await self._guard(self.store.recent_chat(room_id, RECENT_CHAT))
                  if oldest < e.seq <= upto and e.seq not in st.deleted]
        held_texts = (await self._guard(self.store.held_texts(room_id, list(st.held)))
                      if st.held and is_staff(actor.role, st.kind) else None)
        result.snapshot = rules.snapshot(st, actor.role, _wire(recent, st.deleted), held_texts, actor.id)
        if since is not None:
            missed = await self._guard(self.store.events_after(room_id, since)) if since < upto else []
            if missed is None or since > upto or since < oldest:
                result.snapshot["reset"] = True
            else:
                result.missed = _wire([e for e in missed if e.seq <= upto], st.deleted)
        return result

    def _may_make_room(self, actor: c.Actor) -> None:
        now = self.clock.now_ms()
        who = actor.id or ""
        recent = [t for t in self._made.get(who, ()) if t > now - HOUR_MS]
        if len(recent) >= self.rooms_made_per_hour:
            raise CommandError("rate_limited", "you have opened many rooms in the last hour; try again later")
        self._made[who] = [*recent, now]
        if len(self._made) > 10_000:  # forget people with nothing recent
            self._made = {k: v for k, v in self._made.items() if v and v[-1] > now - HOUR_MS}

    def help_offer(self, room: str, actor: c.Actor) -> dict[str, Any]:
        """What "Need help now?" shows: the crisis offer, asked for by the person, with
        the emergency number after the helplines."""
        offer = self._offer(room, actor)
        offer["helplines"] = [*offer["helplines"], self.crisis.emergency.to_wire()]
        return offer

    def _offer(self, room: str, actor: c.Actor, category: str | None = None) -> dict[str, Any]:
        offer = self.crisis.offer(room, category)
        oncall = self.crisis.oncall_room
        if oncall and oncall != room and self.mint_token is not None and actor.id is not None:
            offer["oncall_token"] = self.mint_token(actor.id, actor.name, oncall, "member")
        return offer

    def _oncall_offer(self, outcome: Outcome, actor: c.Actor) -> Sequence[Notice]:
        if outcome.refusal is not None or actor.id is None:
            return ()
        room = outcome.state.id
        offer = {**self.crisis.offer(room), "oncall_room": room}
        return (Notice("crisis.offer", Target("participant", room, actor.id), offer),)

    async def open_private(self, room_id: str, actor: c.Actor, participant: str) -> dict[str, Any]:
        """A responder takes a member from an on-call room into a private 1:1 room (the
        rule and the new room: ``core.room.open_private``); both get ``oncall.moved``
        with a token to it (``_with_token``)."""
        cmd = c.OpenPrivate(participant=participant, room=f"private-{self.new_id()}")
        outcome = await self.execute(room_id, actor, cmd)
        return dict(outcome.reply)

    async def groups_start(self, room_id: str, actor: c.Actor, *, minutes: int, count: int | None = None,
                           groups: Sequence[Sequence[str]] | None = None) -> dict[str, Any]:
        """A facilitator splits a circle into small groups (the rules and the rooms:
        ``core.groups``); everyone sent to one gets ``groups.moved`` with a token to it.
        The service only draws the rooms' ids, one per group asked for."""
        n = count if count is not None else len(groups or ())
        cmd = c.GroupsStart(groups=tuple(tuple(g) for g in groups) if groups is not None else None, count=count,
                            minutes=minutes, rooms=tuple(f"group-{self.new_id()}" for _ in range(max(0, n))))
        outcome = await self.execute(room_id, actor, cmd)
        return dict(outcome.reply)

    async def groups_visit(self, room_id: str, actor: c.Actor, group: str) -> dict[str, Any]:
        """A way into one of the circle's small groups for its staff (who are on every
        group's list): ``{room, token}``. Nothing is committed."""
        outcome = await self.execute(room_id, actor, c.GroupsVisit(room=group))
        me = outcome.state.participants.get(actor.id or "")
        if self.mint_token is None or me is None:
            raise CommandError("unavailable", "this server gives no tokens to other rooms")
        return {"room": group, "token": self.mint_token(me.id, me.name, outcome.reply["room"], me.role)}

    async def close_private(self, room_id: str, actor: c.Actor) -> dict[str, Any]:
        """End a private 1:1 room and send its member (and responder) back where they
        came from (``core.room.close_private``)."""
        outcome = await self.execute(room_id, actor, c.ClosePrivate())
        return dict(outcome.reply)

    async def counts(self) -> tuple[int, int]:
        """Rooms in the store, and people waiting in on-call rooms (for the metrics)."""
        return len(await self._guard(self.store.room_ids())), len(await self.waiting())

    async def waiting(self) -> list[dict[str, Any]]:
        """Everyone waiting in an on-call room, oldest first: ids and times only."""
        out = []
        now = self.clock.now_ms()
        for rid in await self._guard(self.store.room_ids()):
            state = await self._guard(self.store.load(rid))
            if state is None or state.kind != "oncall" or state.ended:
                continue
            for pid, w in state.waiting.items():
                out.append({"room": rid, "participant": pid, "since": w.since, "waited_ms": now - w.since,
                            "escalated": w.escalated})
        return sorted(out, key=lambda x: x["since"])

    # -- chat ----------------------------------------------------------------------------------

    async def chat(self, room_id: str, actor: c.Actor, text: str, client_id: str | None,
                   reply_to: int | None) -> dict[str, Any]:
        """Moderate, then commit a message. Returns the event as clients see it."""
        assert actor.id is not None
        text = clean_text(text)  # moderation sees what would be shown
        key = client_key(actor.id, client_id) if client_id is not None else None
        state, seen = await self._load_chat(room_id, key)
        if seen is not None:
            return await self._first_try(state, actor.id, client_id or "", seen)
        if actor.id not in state.participants:
            raise CommandError("not_joined", "you have not joined this room")
        verdict = await self._moderate(state, actor, text)
        cmd = c.Chat(
            text=verdict.text if verdict.text is not None else text,
            msg_id=self.new_id(), client_id=client_id, reply_to=reply_to,
            action=verdict.action.value, reason=verdict.reason,
            alerts=_alerts(verdict),
        )

        async def reload(command: c.Command) -> tuple[RoomState, c.Command]:
            # A retry (another commit came first) reads the client_id again with the
            # state: that commit may have been this very message, sent twice at once.
            fresh, seen = await self._load_chat(room_id, key)
            return fresh, dataclasses.replace(cmd, seen=seen)

        outcome = await self.execute(room_id, actor, cmd, lambda o: self._crisis_notices(o, actor, verdict),
                                     state, reload)
        if outcome.refusal is not None:
            held = {"id": outcome.reply["id"]} if "id" in outcome.reply else None
            raise CommandError(outcome.refusal.code, outcome.refusal.message, held)
        if "duplicate_of" in outcome.reply:
            return await self._first_try(outcome.state, actor.id, client_id or "", outcome.reply["duplicate_of"])
        return outcome.events[0].to_wire()

    async def _moderate(self, state: RoomState, actor: c.Actor, text: str) -> Verdict:
        assert actor.id is not None
        return await self.pipeline_for(state.id).run(MessageContext(
            room=state.id, room_kind=state.kind, sender_id=actor.id, sender_role=actor.role,
            text=text, now_ms=self.clock.now_ms(), slow_mode_seconds=state.settings.slow_mode_seconds,
            sender_is_staff=is_staff(actor.role, state.kind)))

    async def milestone(self, room_id: str, actor: c.Actor, days: int, note: str) -> Outcome:
        """A milestone; its note is member text and passes the pipeline as chat does."""
        if not note:
            return await self.execute(room_id, actor, c.Milestone(days=days))
        note = clean_text(note)
        state = await self.load(room_id)
        if actor.id not in state.participants:
            raise CommandError("not_joined", "you have not joined this room")
        verdict = await self._moderate(state, actor, note)
        if verdict.action is Action.BLOCK and verdict.reason in TOO_FAST:
            raise CommandError("rate_limited", "you are sending messages too quickly; please wait a moment")
        if verdict.action in (Action.BLOCK, Action.HOLD):
            # A note is not held for review: the milestone can be shared without it.
            raise CommandError("blocked", "your note was not shared; share the milestone without it")
        cmd = c.Milestone(days=days, note=verdict.text if verdict.text is not None else note, alerts=_alerts(verdict))
        return await self.execute(room_id, actor, cmd, lambda o: self._crisis_notices(o, actor, verdict), state)

    async def _first_try(self, state: RoomState, pid: str, client_id: str, seq: int) -> dict[str, Any]:
        """The event a retried ``client_id`` made the first time (``seq``), or a refusal."""
        if seq <= 0:
            # Held or blocked the first time: say so again, do not run moderation twice.
            held = next((h.id for h in state.held.values() if h.sender == pid and h.client_id == client_id), None)
            raise CommandError("held" if seq == 0 else "blocked", "your message was not posted",
                               {"id": held} if held else None)
        if seq <= state.seq - LOG_KEPT:
            raise CommandError("conflict", "that message is too old to look up")
        events = await self._guard(self.store.events_after(state.id, seq - 1)) or []
        for e in events:
            if e.seq == seq:
                return _wire([e], state.deleted)[0]
        raise CommandError("conflict", "that message is too old to look up")

    def _crisis_notices(self, outcome: Outcome, actor: c.Actor, verdict: Verdict) -> Sequence[Notice]:
        """Crisis language never blocks; it leads somewhere (contract §8)."""
        if actor.id is None or not verdict.crisis:
            return ()
        room = outcome.state.id
        category = verdict.crisis_category
        offer = Notice("crisis.offer", Target("participant", room, actor.id), self._offer(room, actor, category))
        if outcome.state.parent is not None and outcome.state.kind == "oncall":
            # A private 1:1 room: the responder is already there (their alert comes with
            # the event), and its id must reach nobody else.
            return (offer,)
        page: dict[str, Any] = {"room": room, "participant_id": actor.id, "waiting_since": self.clock.now_ms(),
                                "tier": 1, "reason": "crisis_detected"}
        if category is not None:
            page["category"] = category
        return (offer, Notice("oncall.page", Target("on_duty"), page))

    # -- chat.delete needs the log to know the seq is a message -------------------------------

    async def delete_message(self, room_id: str, actor: c.Actor, seq: int) -> Outcome:
        """Who may delete is the rules table's to say; the service only reads the log."""
        events = await self._guard(self.store.events_after(room_id, seq - 1)) or []
        is_message = any(e.seq == seq and e.type == "chat.message" for e in events)
        return await self.execute(room_id, actor, c.ChatDelete(seq=seq, is_message=is_message))

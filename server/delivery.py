"""Local delivery: what this worker holds of its connections, and getting events to them.

``LocalDelivery`` is the publisher of a one-worker server (the service hands it every
commit) and the layer the cluster builds on (LiveKit's ``RedisRouter`` embeds its
``LocalRouter`` the same way). It sits below the service and knows nothing of it:

- the connections this worker holds (``Conn``), the people index (room, participant) →
  connection, and which responders are on duty here;
- each room's ordered fan-out (``fanout.Fanout``) and the media layer's copy of the events;
- the routing of private notices to the right sockets (a participant, a room's staff,
  every staff member, the responders on duty);
- writing a packet to many sockets at once, encoded once (``wsdriver.event_packet``).

The gateway parses, dispatches and runs the connection lifecycle; it registers each
connection here and asks here to forget a room.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from .clock import Clock
from .core import commands as c
from .core.model import Event, Notice, Target
from .core.room import is_staff
from .fanout import Fanout
from .media.base import Media, NoMedia
from .store import Store
from .tasks import TaskSet
from .tokens import Identity
from .wsdriver import event_packet

log = logging.getLogger("circles.delivery")


@dataclass(eq=False)
class Conn:
    """One Socket.IO connection held by this worker."""

    sid: str
    who: Identity
    conn_id: str
    # The Engine.IO socket under this connection (its send queue).
    eio: Any = None
    rooms: set[str] = field(default_factory=set)
    waiting: set[str] = field(default_factory=set)
    # Rooms where this connection has facilitator powers (responders: on-call rooms).
    staff_in: set[str] = field(default_factory=set)

    def actor(self) -> c.Actor:
        return c.Actor(id=self.who.sub, name=self.who.name, role=self.who.role, conn=self.conn_id,
                       guest=self.who.guest)


@dataclass(frozen=True)
class OnDuty:
    """A responder on duty: their id, the name on their link, and since when (ms)."""

    responder: str
    name: str
    since: int

    def to_wire(self) -> dict[str, Any]:
        return {"responder": self.responder, "name": self.name, "since": self.since}


class DutyRoster(Protocol):
    """Who is on duty now, as the admin API asks: this worker's ``LocalDelivery`` with one
    worker, the cluster's ``Presence`` (every live worker's) with several."""

    async def on_duty(self) -> list[OnDuty]: ...


def merge_duty(entries: Iterable[OnDuty]) -> list[OnDuty]:
    """One entry per responder (on duty on several workers: since the earliest), by name."""
    first: dict[str, OnDuty] = {}
    for d in entries:
        if d.responder not in first or d.since < first[d.responder].since:
            first[d.responder] = d
    return sorted(first.values(), key=lambda d: (d.name.casefold(), d.responder))


C = TypeVar("C", bound=Conn)


class LocalDelivery(Generic[C]):
    def __init__(self, store: Store, worker_id: str, clock: Clock,
                 disconnect: Callable[[str], Awaitable[None]] | None = None,
                 on_delivered: Callable[[int], None] = lambda n: None) -> None:
        self.store = store
        self.worker_id = worker_id
        self.media: Media = NoMedia()
        # Closes a socket (the client reconnects and rejoins with `since`).
        self._disconnect = disconnect
        self.conns: dict[str, C] = {}
        # (room, participant) -> the sid of that person's live connection on this worker
        self.people: dict[tuple[str, str], str] = {}
        self.clock = clock
        # Responders on duty here, by participant id; duty ends with their last connection here.
        self.duty: dict[str, OnDuty] = {}
        # Set whenever who this worker holds, or who is on duty here, changes (the
        # cluster's presence waits on it).
        self.membership = asyncio.Event()
        self.fanout = Fanout(self, self._fetch, on_ended=self._room_ended, on_delivered=on_delivered, clock=clock,
                             on_behind=self._let_go)
        self.tasks = TaskSet()

    def use_media(self, media: Media) -> None:
        """The media layer gets every committed event of the rooms here, and a person's
        audio ends when they leave a room here."""
        self.media = media

    # -- the publisher of one worker -----------------------------------------------------------

    async def publish(self, room_id: str, events: Sequence[Event], notices: Sequence[Notice]) -> None:
        if events:
            self.receive(room_id, [e.to_wire() for e in events])
        for n in notices:
            self.deliver_notice(n)

    def receive(self, room: str, events: list[dict[str, Any]]) -> None:
        """Committed events of a room, from whichever worker committed them."""
        self.fanout.deliver(room, events)
        self.media.on_events(room, events)

    def wants(self, room: str) -> bool:
        """Whether this worker needs ``room``'s events (clients here, or its audio)."""
        return room in self.fanout.channels or self.media.serves(room)

    # -- connections and people ------------------------------------------------------------------

    def add(self, conn: C) -> None:
        self.conns[conn.sid] = conn

    def remove(self, sid: str) -> C | None:
        """The connection closed: forget it (its rooms are left to the caller)."""
        conn = self.conns.pop(sid, None)
        if conn is not None and conn.who.sub in self.duty and \
                not any(o.who.sub == conn.who.sub for o in self.conns.values()):
            self.off_duty(conn.who.sub)
        return conn

    # -- duty -------------------------------------------------------------------------------------

    def on_duty_here(self, conn: C) -> None:
        """``conn``'s responder goes on duty (still since the first time, if already)."""
        if conn.who.sub not in self.duty:
            self.duty[conn.who.sub] = OnDuty(conn.who.sub, conn.who.name, self.clock.now_ms())
            self.membership.set()

    def off_duty(self, responder: str) -> None:
        if self.duty.pop(responder, None) is not None:
            self.membership.set()

    async def on_duty(self) -> list[OnDuty]:
        """Who is on duty on this worker (the whole server when it is the only one)."""
        return merge_duty(self.duty.values())

    def joining(self, conn: C, room: str) -> str | None:
        """``conn`` is joining ``room``: it is that person's connection here from now on.
        Returns the connection it replaces (to put back with ``not_joined`` if the join fails)."""
        self.fanout.begin_join(room, conn.sid)
        key = (room, conn.who.sub)
        previous = self.people.get(key)
        self.people[key] = conn.sid
        self.membership.set()
        return previous

    def not_joined(self, conn: C, room: str, previous: str | None) -> None:
        self.fanout.cancel_join(room, conn.sid)
        key = (room, conn.who.sub)
        if previous is not None and previous != conn.sid and previous in self.conns:
            self.people[key] = previous
        elif self.people.get(key) == conn.sid and room not in conn.rooms:
            del self.people[key]
        self.membership.set()

    def in_lobby(self, conn: C, room: str) -> None:
        """The join was refused into the lobby: no events, but this connection stays the
        person's here, so that ``lobby.admitted`` / ``lobby.denied`` reach it."""
        self.fanout.cancel_join(room, conn.sid)
        conn.waiting.add(room)

    def joined(self, conn: C, room: str, kind: str, seq: int) -> None:
        """The join committed with a snapshot at ``seq``: after the ack (sent when the
        handler returns), this connection gets what was held for it, then the live stream."""
        conn.waiting.discard(room)
        conn.rooms.add(room)
        if is_staff(conn.who.role, kind):
            conn.staff_in.add(room)
        self.fanout.finish_join(room, conn.sid, seq)
        asyncio.get_running_loop().call_soon(self.tasks.spawn, self.fanout.activate(room, conn.sid))

    async def drop(self, sid: str) -> None:
        """Close a socket (its client reconnects, maybe to another worker, and rejoins
        with ``since``)."""
        if self._disconnect is not None:
            await self._disconnect(sid)

    def forget(self, conn: C, room: str) -> None:
        """``conn`` is no longer in ``room`` (left, removed, closed, or the room ended)."""
        if room in conn.rooms:
            self.tasks.spawn(self.media.close(room, conn.who.sub))
        conn.rooms.discard(room)
        conn.waiting.discard(room)
        conn.staff_in.discard(room)
        self.fanout.unsubscribe(room, conn.sid)
        if self.people.get((room, conn.who.sub)) == conn.sid:
            del self.people[(room, conn.who.sub)]
            self.membership.set()

    def held(self) -> Iterator[tuple[str, C]]:
        """(room, connection) for every person this worker holds in a room."""
        for (room, _), sid in list(self.people.items()):
            conn = self.conns.get(sid)
            if conn is not None:
                yield room, conn

    def _room_ended(self, room: str, sids: set[str]) -> None:
        for sid in sids:
            conn = self.conns.get(sid)
            if conn is not None:
                self.forget(conn, room)

    async def _fetch(self, room: str, seq: int) -> list[dict[str, Any]] | None:
        events = await self.store.events_after(room, seq)
        return None if events is None else [e.to_wire() for e in events]

    def _let_go(self, sid: str) -> None:
        """A client whose join could not be caught up (the store is away): it reconnects
        and rejoins with ``since``, as after any drop."""
        self.tasks.spawn(self.drop(sid))

    # -- catching up after the link to other workers was away --------------------------------------

    def rooms(self) -> list[str]:
        return list(self.fanout.channels)

    def delivered(self, room: str) -> int | None:
        ch = self.fanout.channels.get(room)
        return None if ch is None else ch.delivered

    async def resync(self, room: str) -> None:
        """Deliver what this worker missed of ``room``; when the store's log cannot close
        the gap (the room is gone, or too much happened), tell the truth the only way the
        protocol has: the clients reconnect, rejoin with ``since`` and get a reset snapshot
        (or not_found until a facilitator's join makes the room again)."""
        delivered = self.delivered(room)
        if delivered is None:
            return
        top = await self.store.seq(room)
        if top is not None and top >= delivered and await self.fanout.resync(room):
            return
        sids = self.fanout.subscribers(room)
        log.warning("room history lost; clients must rejoin", extra={"room": room, "count": len(sids)})
        if self._disconnect is not None:
            for sid in sids:
                await self._disconnect(sid)

    # -- sending (the fan-out's Sender, and private notices) ------------------------------------

    def send(self, sids: Iterable[str], event: str, data: Any) -> int:
        """Encode once, then put the packet straight on each socket's queue.

        python-socketio's own room emit makes one task per recipient; going to the
        Engine.IO socket queues directly keeps delivery synchronous (so it cannot
        reorder) and several times cheaper; and the queue writes the frame to the
        socket at once when nothing waits before it.
        """
        pkt = event_packet(event, data)
        conns = self.conns
        n = 0
        for sid in sids:
            conn = conns.get(sid)
            sock = conn.eio if conn is not None else None
            if sock is None or sock.closed:
                continue
            sock.queue.put_nowait(pkt)
            n += 1
        return n

    def tell(self, room: str, participant: str, event: str, data: dict[str, Any]) -> None:
        """A private event to that person's connection on this worker, if any."""
        self.deliver_notice(Notice(event, Target("participant", room, participant), data))

    def deliver_notice(self, notice: Notice) -> None:
        to = notice.to
        if to.kind == "participant":
            sid = self.people.get((to.room, to.participant))
            if to.conn:
                worker, _, sid_part = to.conn.partition(":")
                sid = sid_part if worker == self.worker_id else None
            if sid is None or sid not in self.conns:
                return
            self.send((sid,), notice.event, dict(notice.data))
            if notice.event == "removed":
                self.forget(self.conns[sid], to.room)
            elif notice.event == "lobby.denied":
                self.conns[sid].waiting.discard(to.room)
            return
        if to.kind == "facilitators":
            sids = [sid for sid in self.fanout.subscribers(to.room)
                    if (conn := self.conns.get(sid)) is not None and to.room in conn.staff_in]
        elif to.kind == "staff":
            # Every staff member (tier-2 pages): whoever has staff powers in an on-call room.
            sids = [sid for sid, conn in self.conns.items() if is_staff(conn.who.role, "oncall")]
        elif to.kind == "on_duty":
            sids = [sid for sid, conn in self.conns.items() if conn.who.sub in self.duty]
        else:
            return
        self.send(sids, notice.event, dict(notice.data))

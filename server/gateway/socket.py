"""Socket.IO handlers (contract §4): parse and validate, authorize, call the service, ack.

No rule of a room lives here, and no delivery: the connections this worker holds, the
people index and every send are ``delivery.LocalDelivery``'s. What lives here is the
edge of one connection: its verified identity and token expiry, its flood guard, parsing
and dispatch, and the connection lifecycle (connect, join, leave, disconnect).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import socketio

from ..config import MediaConfig
from ..core import commands as c
from ..core import format as meeting
from ..core.errors import CommandError
from ..delivery import Conn, LocalDelivery
from ..media import turn
from ..metrics import Metrics
from ..service import RoomService
from ..tokens import LEEWAY_S, SESSION_TTL, Identity, TokenError, mint, verify
from ..wsdriver import BAD_PACKET, CirclesEngineIO, DirectQueue
from . import schemas as s
from .limits import UNKNOWN_ADDRESS, Guard, Limits, Networks, TokenBucket, client_address

log = logging.getLogger("circles.gateway")

# Events that act on a room a connection has not joined: joining it, and leaving (its
# lobby, too). Every other event naming a room needs this socket to have joined it, so
# that a second socket of the same person cannot act there unseen (issue 12, item 5).
NO_JOIN_NEEDED: Final = frozenset({"join", "leave", "help.offer", "attendance.mine"})
# Still allowed once the token has expired: letting go is always fine.
AFTER_EXPIRY: Final = frozenset({"leave", "rtc.close", "help.offer", "session.renew"})


# The event names a packet is read as when its JSON cannot be read (see ``PacketJSON``),
# and when it names no event a client may send (see ``StrictServer``): no client can
# send them, since a NUL is not a name anyone types.
TOO_DEEP: Final = "\x00too_deep"
UNREADABLE: Final = "\x00unreadable"
UNKNOWN: Final = "\x00unknown"
# Names python-socketio would not dispatch as an event: it would call the connect or
# disconnect handler, or the catch-all with the wrong arguments.
NOT_EVENTS: Final = frozenset({"connect", "disconnect", "*"})

# A draining worker (SIGTERM) gives its in-flight commands this long to commit and be
# acknowledged, then says goodbye to every client; aiohttp's own shutdown timeout
# follows. Together they bound how long a worker takes to leave.
DRAIN_COMMANDS_S: Final = 2.0
DRAIN_GOODBYE_S: Final = 3.0
# Goodbyes (each a committed disconnect) run this many at a time, each within the second
# figure; a connection still there after them is cut off with the reason below.
GOODBYE_BATCH: Final = 64
DRAIN_ONE_S: Final = 1.0
DRAINED: Final = "draining"
RESTARTING: Final = "this server is restarting; you are being moved to another"


class PacketJSON:
    """The JSON codec of Socket.IO packets. python-socketio drops a packet whose JSON
    fails to decode unanswered and logs an error with a traceback; here a packet nested
    deeper than the decoder's recursion limit (``[[[[...]]]]``, 40,000 deep in 80 KB) is
    read as the event ``TOO_DEEP``, and one that is not JSON at all (cut short, garbled,
    an integer of more than 4300 digits) as ``UNREADABLE``: each gets an ``invalid`` ack
    like any other bad payload."""

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        return json.dumps(obj, **kwargs)

    @staticmethod
    def loads(s: str | bytes, **kwargs: Any) -> Any:
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            return [TOO_DEEP]
        except ValueError:
            return [UNREADABLE]


class StrictServer(socketio.AsyncServer):
    """python-socketio's server, reading only the Socket.IO packets a Circles client
    sends: CONNECT, DISCONNECT and EVENT (an array whose first item is an event name)
    on the namespace ``/``, as text. Anything else (a binary frame or a binary event,
    whose attachments are held until they come; an unknown packet type; CONNECT_ERROR;
    a packet that does not decode; an event before connecting or to another namespace;
    an event that is not an array) closes the connection at once, with the reason
    ``bad_packet``. python-socketio would raise on most of these (an error with a
    traceback in the log), call the connect and disconnect handlers for events named
    "connect" and "disconnect", or log the client's namespace. An event named
    "connect", "disconnect", "*" or anything but a string is an unknown event
    (``invalid``); acks are ignored, since the server asks none."""

    def _engineio_server_class(self) -> type[CirclesEngineIO]:
        return CirclesEngineIO

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any = None) -> None:
        if isinstance(self.eio, CirclesEngineIO):
            self.eio.stop_pinging(eio_sid)
        await super()._handle_eio_disconnect(eio_sid, reason)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if not await self._read(eio_sid, data):
            sock = self.eio.sockets.get(eio_sid)
            if sock is not None and isinstance(sock.queue, DirectQueue):
                sock.queue.drop(BAD_PACKET)
            elif sock is not None:
                await sock.close(wait=False, abort=True, reason=BAD_PACKET)

    async def _read(self, eio_sid: str, data: Any) -> bool:
        """Handle one packet; False when it is not one a client of ours sends."""
        if not isinstance(data, str):
            return False
        try:
            pkt = self.packet_class(encoded_packet=data)
        except Exception:  # whatever python-socketio's decoder raises (ValueError, TypeError)
            return False
        namespace = pkt.namespace or "/"
        if pkt.packet_type == socketio.packet.CONNECT:
            await self._handle_connect(eio_sid, namespace, pkt.data)  # another namespace: CONNECT_ERROR
        elif pkt.packet_type == socketio.packet.DISCONNECT:
            if namespace == "/":
                await self._handle_disconnect(eio_sid, namespace, self.reason.CLIENT_DISCONNECT)
        elif pkt.packet_type == socketio.packet.EVENT:
            sid = self.manager.sid_from_eio_sid(eio_sid, "/")
            args = pkt.data
            if namespace != "/" or sid is None or not self.manager.is_connected(sid, "/"):
                return False
            if not isinstance(args, list) or not args:
                return False
            if not isinstance(args[0], str) or args[0] in NOT_EVENTS:
                args = [UNKNOWN, *args[1:]]
            await self._handle_event(eio_sid, namespace, pkt.id, args)
        elif pkt.packet_type != socketio.packet.ACK:
            return False
        return True


class RefusedConnection(socketio.exceptions.ConnectionRefusedError):
    """A refusal whose ``connect_error`` data carries the contract's ``{code, message}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error_args = {"message": message, "code": code, "data": {"code": code, "message": message}}


@dataclass(eq=False, kw_only=True)
class Connection(Conn):
    """A connection as the edge sees it: the held one, and its flood guard."""

    bucket: TokenBucket
    address: str = UNKNOWN_ADDRESS


Handler = Callable[[Connection, Any], Awaitable[dict[str, Any]]]


class SocketGateway:
    def __init__(self, sio: socketio.AsyncServer, service: RoomService, delivery: LocalDelivery[Connection],
                 secret: str, metrics: Metrics, limits: Limits | None = None, trusted_proxies: Networks = (),
                 wall: Callable[[], float] = time.time, turn_config: MediaConfig | None = None) -> None:
        self.sio = sio
        # TURN credentials for the browsers (the join ack's ice_servers).
        self.turn = turn_config or MediaConfig()
        self.service = service
        self.delivery = delivery
        self.conns = delivery.conns
        self.secret = secret
        self.metrics = metrics
        self.guard = Guard(limits)
        self.trusted_proxies = trusted_proxies
        # Wall-clock seconds, for token expiry (tests drive it).
        self.wall = wall
        # Draining (``drain``): no new connection or command; commands under way finish.
        self.draining = False
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # The payload schema of each event is schemas.EVENTS[name].
        self.handlers: dict[str, Handler] = {
            "join": self._join,
            "leave": self._leave,
            "chat.send": self._chat,
            "hand.raise": self._simple(c.HandRaise),
            "hand.lower": self._simple(c.HandLower),
            "floor.yield": self._simple(c.FloorYield),
            "floor.pass": self._simple(c.FloorPass),
            "reaction.send": self._command(lambda p: c.Reaction(kind=p.kind)),
            "milestone.share": self._milestone,
            "report": self._command(lambda p: c.Report(reason=p.reason, seq=p.seq, participant=p.participant)),
            "floor.grant": self._command(lambda p: c.FloorGrant(p.participant)),
            "floor.revoke": self._simple(c.FloorRevoke),
            "floor.extend": self._command(lambda p: c.FloorExtend(p.seconds)),
            "participant.service": self._command(lambda p: c.ServiceSet(p.participant, p.service)),
            "queue.move": self._command(lambda p: c.QueueMove(p.participant, p.index)),
            "round.start": self._command(lambda p: c.RoundStart(tuple(p.order) if p.order is not None else None)),
            "round.stop": self._simple(c.RoundStop),
            "room.settings": self._command(lambda p: c.ChangeSettings(p.changes())),
            "participant.mute": self._command(lambda p: c.Mute(p.participant, p.muted)),
            "participant.remove": self._command(lambda p: c.Remove(p.participant, ban=p.ban, reason=p.reason)),
            "lobby.admit": self._command(lambda p: c.LobbyAdmit(p.participant)),
            "lobby.deny": self._command(lambda p: c.LobbyDeny(p.participant)),
            "chat.delete": self._delete,
            "chat.review": self._command(lambda p: c.ChatReview(p.id, p.approve)),
            "room.end": self._simple(c.EndRoom),
            "format.start": self._command(lambda p: c.FormatStart(reader=p.reader)),
            "format.advance": self._command(lambda p: c.FormatAdvance(index=p.index, reader=p.reader)),
            "format.end": self._simple(c.FormatEnd),
            "format.get": self._format,
            "oncall.duty": self._duty,
            "help.offer": self._help,
            "session.renew": self._renew,
            "oncall.private": self._private,
            "oncall.return": self._return,
            "groups.start": self._groups_start,
            "groups.end": self._simple(c.GroupsEnd),
            "groups.visit": self._groups_visit,
            "rtc.offer": self._rtc_offer,
            "rtc.close": self._rtc_close,
            "attendance.mine": self._attendance_mine,
            "attendance.erase": self._attendance_erase,
            "attendance.follow_up": self._attendance_follow_up,
        }
        assert self.handlers.keys() == s.EVENTS.keys(), "every event needs a schema and a handler"

    # -- wiring -------------------------------------------------------------------------------

    def register(self) -> None:
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        for name in self.handlers:
            self.sio.on(name, self._bind(name))
        self.sio.on("*", self._unknown)
        self.sio.on(TOO_DEEP, self._too_deep)
        self.sio.on(UNREADABLE, self._unreadable)
        # python-socketio keeps its codec on the packet class (what AsyncServer(json=)
        # sets); the same for every server of the process.
        socketio.packet.Packet.json = PacketJSON

    def _bind(self, name: str) -> Callable[..., Awaitable[dict[str, Any]]]:
        async def handler(sid: str, *args: Any) -> dict[str, Any]:
            return await self.dispatch(name, sid, args)
        return handler

    async def _unknown(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        return {"ok": False, "error": {"code": "invalid", "message": "unknown event"}}

    async def _too_deep(self, sid: str, *args: Any) -> dict[str, Any]:
        return {"ok": False, "error": {"code": "invalid", "message": "the payload is nested too deeply"}}

    async def _unreadable(self, sid: str, *args: Any) -> dict[str, Any]:
        return {"ok": False, "error": {"code": "invalid", "message": "the packet is not valid JSON"}}

    # -- connection lifecycle --------------------------------------------------------------------

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        if self.draining:
            raise RefusedConnection("unavailable", RESTARTING)
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            who = verify(self.secret, token)
        except TokenError as e:
            raise RefusedConnection(e.code, e.message) from None
        address = client_address(environ.get("aiohttp.request"), self.trusted_proxies)
        refused = self.guard.open(who.sub, address)
        if refused is not None:
            self.metrics.commands.labels("connect", "rate_limited").inc()
            raise RefusedConnection("rate_limited", refused)
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
        eio = self.sio.eio.sockets.get(eio_sid) if eio_sid is not None else None
        if eio is not None and isinstance(eio.queue, DirectQueue):
            eio.queue.belongs_to(eio)
        self.delivery.add(Connection(sid=sid, who=who, conn_id=f"{self.delivery.worker_id}:{sid}", eio=eio,
                                     bucket=self.guard.connection_bucket(), address=address))
        self.metrics.connections.inc()

    async def _disconnect(self, sid: str, *args: Any) -> None:
        conn = self.delivery.remove(sid)
        if conn is None:
            return
        self.guard.close(conn.who.sub, conn.address)
        self.metrics.connections.dec()
        reason = args[0] if args and isinstance(args[0], str) and len(args[0]) < 40 else "unknown"
        dropped = getattr(getattr(conn.eio, "queue", None), "dropped", None)
        if dropped is not None:
            reason = dropped
            # A bad packet is the client's own doing: counted, not worth a warning each.
            log.log(logging.INFO if dropped == BAD_PACKET else logging.WARNING, "connection dropped",
                    extra={"reason": dropped})
        self.metrics.disconnects.labels(reason).inc()
        actor = conn.actor()
        for room in list(conn.rooms | conn.waiting):
            self.delivery.forget(conn, room)
            try:
                await self.service.execute(room, actor, c.Disconnect())
            except CommandError:
                pass  # the room ended or the store is away; the grace timer or purge covers it
            except Exception:
                log.exception("disconnect failed", extra={"room": room})

    async def drain(self) -> None:
        """A graceful leave (SIGTERM): take no new connection or command (``unavailable``),
        let the commands under way commit and be acknowledged, then tell every client
        (``server.draining``) and disconnect it. Each disconnect commits, so a member's
        reconnect grace starts now and the floor and queue wait for them; the client
        reconnects (through the load balancer, to another worker) and rejoins with
        ``since``. Room timers live in the store, so another worker fires them."""
        self.draining = True
        started = time.perf_counter()
        waiting = self.in_flight
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._idle.wait(), DRAIN_COMMANDS_S)
        sids = list(self.conns)
        log.info("draining", extra={"count": len(sids), "in_flight": waiting,
                                    "ms": round((time.perf_counter() - started) * 1000)})

        # Told first (one packet, encoded once, on every socket's queue), then let go.
        self.delivery.send(sids, "server.draining", {"reason": "restart"})

        async def goodbyes() -> None:
            for i in range(0, len(sids), GOODBYE_BATCH):
                await asyncio.gather(*(asyncio.wait_for(self.sio.disconnect(sid), DRAIN_ONE_S)
                                       for sid in sids[i:i + GOODBYE_BATCH]), return_exceptions=True)

        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(goodbyes(), DRAIN_GOODBYE_S)
        # A client that does not read is cut off, so that nothing holds the worker's exit:
        # its goodbye may be stuck behind a full buffer, or sent into it, and its websocket
        # would hold aiohttp's shutdown for the whole shutdown timeout.
        stuck = 0
        for sock in list(self.sio.eio.sockets.values()):
            queue = getattr(sock, "queue", None)
            if isinstance(queue, DirectQueue) and queue.dropped is None and queue.backlogged():
                queue.drop(DRAINED)
                stuck += 1
        log.info("drained", extra={"count": stuck, "ms": round((time.perf_counter() - started) * 1000)})

    # -- dispatch ------------------------------------------------------------------------------

    async def dispatch(self, name: str, sid: str, args: tuple[Any, ...]) -> dict[str, Any]:
        started = time.perf_counter()
        result = "ok"
        self.in_flight += 1
        self._idle.clear()
        try:
            if self.draining:
                raise CommandError("unavailable", RESTARTING)
            conn = self.conns.get(sid)
            if conn is None:
                raise CommandError("unauthorized", "connect with a token first")
            if not self.guard.take(conn.bucket, conn.who.sub, conn.address):
                raise CommandError("rate_limited", "too many requests; slow down")
            if name not in AFTER_EXPIRY and self.wall() > conn.who.exp + LEEWAY_S:
                # A token is good until its expiry, not until the connection drops.
                raise CommandError("expired", "your link has expired; ask for a new one")
            if len(args) != 1:
                raise CommandError("invalid", "send exactly one payload object")
            payload = args[0]
            try:
                size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False))
            except RecursionError:
                raise CommandError("invalid", "the payload is nested too deeply") from None
            if size > s.MAX_PAYLOAD_BYTES:
                raise CommandError("too_large", f"payloads must be under {s.MAX_PAYLOAD_BYTES} bytes")
            parsed = s.parse(s.EVENTS[name], payload)
            room = getattr(parsed, "room", None)
            if room is not None and not conn.who.admits(room):
                raise CommandError("forbidden", "your token is for another room")
            if room is not None and name not in NO_JOIN_NEEDED and room not in conn.rooms:
                raise CommandError("not_joined", "join the room on this connection first")
            ack = {"ok": True, **await self.handlers[name](conn, parsed)}
        except CommandError as e:
            result = e.code
            ack = {**e.extra, "ok": False, "error": e.to_wire()}
        except Exception:
            result = "internal"
            log.exception("handler failed", extra={"event": name})
            ack = {"ok": False, "error": {"code": "internal", "message": "something went wrong on our side"}}
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()
        self.metrics.commands.labels(name, result).inc()
        self.metrics.latency.labels(name).observe(time.perf_counter() - started)
        return ack

    def _simple(self, cls: type[c.Command]) -> Handler:
        return self._command(lambda p: cls())

    def _command(self, build: Callable[[Any], c.Command]) -> Handler:
        async def run(conn: Connection, p: Any) -> dict[str, Any]:
            outcome = await self.service.execute(p.room, conn.actor(), build(p))
            if outcome.refusal is not None:
                raise outcome.refusal
            return dict(outcome.reply)
        return run

    # -- handlers with more to do than one command ----------------------------------------------

    async def _join(self, conn: Connection, p: s.JoinPayload) -> dict[str, Any]:
        room = p.room
        if conn.who.session:
            await self._still_in(room, conn.who.sub)
        previous = self.delivery.joining(conn, room)
        try:
            result = await self.service.join(room, conn.actor(), p.since, c.Join(accept=p.accept, arrival=p.arrival))
        except BaseException:
            self.delivery.not_joined(conn, room, previous)
            raise
        if result.outcome.refusal is not None:
            self.delivery.in_lobby(conn, room)
            raise result.outcome.refusal
        # The ack goes out when this handler returns; the events held for this client
        # follow it, so the client sees its snapshot first.
        self.delivery.joined(conn, room, result.snapshot["kind"], result.seq)
        ack: dict[str, Any] = {"room": result.snapshot, "you": result.outcome.reply["you"],
                               "now": self.service.clock.now_ms()}
        if result.missed is not None:
            ack["missed"] = result.missed
        ack["session"] = self._session(conn, room)
        if self.turn.turn_urls:
            ack["ice_servers"] = turn.ice_servers(self.turn.turn_urls, self.turn.turn_secret, self.turn.turn_ttl_s)
        return ack

    # -- session continuity: a meeting in progress outlives its link ---------------------------

    async def _still_in(self, room: str, pid: str) -> None:
        """A session credential is minted only for someone who got in; it brings them
        back to that room (which must still be going) unless they were removed or banned
        since: what their link would be refused, it is refused too."""
        state = await self.service.load(room)
        if pid in state.banned or pid in state.kicked:
            raise CommandError("unauthorized", "this session is over; open your link again")

    def _session(self, conn: Connection, room: str) -> dict[str, Any]:
        w = conn.who
        tok, exp = mint(self.secret, sub=w.sub, name=w.name, role=w.role, room=room, ttl=SESSION_TTL, session=True,
                        guest=w.guest)
        return {"token": tok, "expires_at": exp}

    async def _renew(self, conn: Connection, p: s.RoomPayload) -> dict[str, Any]:
        """A fresh session credential for a room this connection is in, and this
        connection acting on it: allowed after the link's expiry, never after removal."""
        await self._still_in(p.room, conn.who.sub)
        session = self._session(conn, p.room)
        w = conn.who
        conn.who = Identity(sub=w.sub, name=w.name, role=w.role, room=p.room, exp=session["expires_at"],
                            session=True, guest=w.guest)
        return session

    async def _leave(self, conn: Connection, p: s.RoomPayload) -> dict[str, Any]:
        if p.room not in conn.rooms and p.room not in conn.waiting:
            raise CommandError("not_joined", "you have not joined this room")
        await self.service.execute(p.room, conn.actor(), c.Leave())
        self.delivery.forget(conn, p.room)
        return {}

    async def _chat(self, conn: Connection, p: s.ChatSend) -> dict[str, Any]:
        if p.room not in conn.rooms:
            raise CommandError("not_joined", "you have not joined this room")
        event = await self.service.chat(p.room, conn.actor(), p.text, p.client_id, p.reply_to)
        return {"event": event}

    async def _milestone(self, conn: Connection, p: s.MilestoneShare) -> dict[str, Any]:
        outcome = await self.service.milestone(p.room, conn.actor(), p.days, p.note)
        if outcome.refusal is not None:
            raise outcome.refusal
        return {}

    async def _delete(self, conn: Connection, p: s.ChatDeletePayload) -> dict[str, Any]:
        await self.service.delete_message(p.room, conn.actor(), p.seq)
        return {}

    async def _format(self, conn: Connection, p: s.RoomPayload) -> dict[str, Any]:
        """The room's format as the snapshot has it (a client reads it again after
        ``format.changed``), or null."""
        state = await self.service.load(p.room)
        return {"format": meeting.view(state.format) if state.format is not None else None}

    async def _duty(self, conn: Connection, p: s.DutyPayload) -> dict[str, Any]:
        if conn.who.role != "responder":
            raise CommandError("forbidden", "only responders go on duty")
        if p.on:
            self.delivery.on_duty_here(conn)
        else:
            self.delivery.off_duty(conn.who.sub)
        waiting = await self.service.waiting()
        return {"on": p.on, "waiting": [{"room": w["room"], "participant": w["participant"], "since": w["since"]}
                                        for w in waiting]}

    async def _help(self, conn: Connection, p: s.RoomPayload) -> dict[str, Any]:
        """"Need help now?": the helplines and the way into the on-call room, for anyone
        connected, in a room or not, even with an expired link. Nobody is paged: joining
        the on-call room does that."""
        return self.service.help_offer(p.room, conn.actor())

    async def _private(self, conn: Connection, p: s.ParticipantPayload) -> dict[str, Any]:
        return await self.service.open_private(p.room, conn.actor(), p.participant)

    async def _return(self, conn: Connection, p: s.RoomPayload) -> dict[str, Any]:
        return await self.service.close_private(p.room, conn.actor())

    async def _groups_start(self, conn: Connection, p: s.GroupsStartPayload) -> dict[str, Any]:
        return await self.service.groups_start(p.room, conn.actor(), minutes=p.minutes, count=p.count,
                                               groups=p.groups)

    async def _groups_visit(self, conn: Connection, p: s.GroupVisitPayload) -> dict[str, Any]:
        return await self.service.groups_visit(p.room, conn.actor(), p.group)

    async def _rtc_offer(self, conn: Connection, p: s.RtcOffer) -> dict[str, Any]:
        if p.room not in conn.rooms:
            raise CommandError("not_joined", "join the room before starting audio")
        return await self.delivery.media.offer(p.room, conn.who.sub, p.sdp, p.type)

    # Attendance: only ever the asker's own (their token's ``sub``); no payload names anyone.

    async def _attendance_mine(self, conn: Connection, p: s.AttendanceMine) -> dict[str, Any]:
        att = self.service.attendance
        if att is None:
            return {"enabled": False, "meetings": [], "came": 0, "of": 0, "summary": "", "follow_up": False}
        return {"enabled": True, **await att.mine(conn.who.sub, p.room)}

    async def _attendance_erase(self, conn: Connection, p: s.Payload) -> dict[str, Any]:
        att = self.service.attendance
        return {"erased": await att.erase(conn.who.sub) if att is not None else 0}

    async def _attendance_follow_up(self, conn: Connection, p: s.AttendanceFollowUp) -> dict[str, Any]:
        att = self.service.attendance
        if att is None:
            raise CommandError("forbidden", "attendance is not kept on this server")
        return {"on": await att.follow(conn.who.sub, p.on)}

    async def _rtc_close(self, conn: Connection, p: s.RoomPayload) -> dict[str, Any]:
        await self.delivery.media.close(p.room, conn.who.sub)
        return {}

"""Ordered delivery of each room's log to the clients connected to this worker.

Every client gets its room's events in strictly increasing ``seq`` with no gap and no
duplicate (contract §5), whatever order the events reach this worker in:

- a ``Channel`` per room remembers the highest seq it delivered; an event that comes
  early waits in a small buffer, one that comes twice is dropped, and a gap that does
  not close by itself is filled from the store's log;
- a joining client is not sent what its join snapshot already holds: between the join
  commit (snapshot at seq S) and the moment its ack has gone out, events above S are
  kept for it, then sent in order, and only then does it get the live stream.

Delivery itself is synchronous (``Sender.send`` puts packets on the sockets' queues),
so two deliveries can never interleave.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from .clock import Clock, SystemClock, Timer

log = logging.getLogger("circles.fanout")

# How long an out-of-order event waits for the ones before it before the channel asks
# the store for the missing range. Cross-worker messages normally arrive within a
# millisecond or two; this only matters when a pub/sub message was lost.
GAP_WAIT_MS: Final = 250
# Events a joining client may have queued for it while its ack is on the way.
JOIN_BUFFER_MAX: Final = 5000

Wire = dict[str, Any]
Fetch = Callable[[str, int], Awaitable[list[Wire] | None]]


class Sender(Protocol):
    def send(self, sids: Iterable[str], event: str, data: Any) -> int:
        """Queue one packet for each of ``sids`` (encoded once). Returns how many."""
        ...


@dataclass
class _Joining:
    watermark: int | None = None
    buffer: list[Wire] = field(default_factory=list)
    catch_up_to: int | None = None
    # Its ack and what was held went out, but this worker has not delivered up to its
    # snapshot yet (those events are still on their way here): it joins the live stream
    # with the first event after its snapshot, never before.
    active: bool = False


@dataclass
class Channel:
    room: str
    delivered: int | None = None
    live: set[str] = field(default_factory=set)
    joining: dict[str, _Joining] = field(default_factory=dict)
    pending: dict[int, Wire] = field(default_factory=dict)
    refill: Timer | None = None

    @property
    def empty(self) -> bool:
        return not self.live and not self.joining


class Fanout:
    def __init__(self, sender: Sender, fetch: Fetch,
                 on_ended: Callable[[str, set[str]], None] = lambda room, sids: None,
                 on_delivered: Callable[[int], None] = lambda n: None, gap_wait_ms: int = GAP_WAIT_MS,
                 clock: Clock | None = None, on_behind: Callable[[str], None] = lambda sid: None) -> None:
        self._sender = sender
        self._gap_wait_ms = gap_wait_ms
        self._clock = clock or SystemClock()
        self._fetch = fetch
        self._on_ended = on_ended
        self._on_delivered = on_delivered
        self._on_behind = on_behind
        self.channels: dict[str, Channel] = {}
        self._filling: set[asyncio.Future[None]] = set()

    # -- subscriptions ----------------------------------------------------------------------

    def begin_join(self, room: str, sid: str) -> None:
        ch = self.channels.setdefault(room, Channel(room))
        ch.live.discard(sid)
        ch.joining[sid] = _Joining()

    def finish_join(self, room: str, sid: str, seq: int) -> None:
        """The join committed with a snapshot at ``seq``; hold newer events for ``sid``."""
        ch = self.channels.get(room)
        if ch is None or sid not in ch.joining:
            return
        j = ch.joining[sid]
        j.watermark = seq
        j.buffer = [e for e in j.buffer if e["seq"] > seq]
        if ch.delivered is None:
            ch.delivered = seq
            for old in [s for s in ch.pending if s <= seq]:
                del ch.pending[old]
            self._drain(ch)
        elif ch.delivered > seq:
            # Events after the snapshot went out before this client was counted in:
            # fetch them from the log (the buffer keeps only what comes after).
            j.catch_up_to = ch.delivered
            j.buffer = [e for e in j.buffer if e["seq"] > ch.delivered]

    async def activate(self, room: str, sid: str) -> None:
        """After the join ack: send what was held, then switch to the live stream.

        Only for the join that is still this connection's latest: a client that asked
        again (its first ack was late) has a newer join, whose activation sends its own
        catch-up; the older one, waking from its read of the log, sends nothing (it would
        send old events after newer ones). When the log cannot be read now, the client is
        let go (``on_behind``): it reconnects and rejoins with ``since``, never a gap."""
        ch = self.channels.get(room)
        j = ch.joining.get(sid) if ch is not None else None
        if ch is None or j is None or j.watermark is None:
            return
        if j.catch_up_to is not None:
            upto = j.catch_up_to
            try:
                missed = await self._fetch(room, j.watermark)
            except Exception as err:  # the store is away: the same as a log that cannot say
                log.warning("join catch-up unavailable", extra={"room": room, "reason": type(err).__name__})
                missed = None
            if self.channels.get(room) is not ch or ch.joining.get(sid) is not j:
                return
            if missed is None:
                self.unsubscribe(room, sid)
                self._on_behind(sid)
                return
            for e in missed:
                if j.watermark < e["seq"] <= upto:
                    self._sender.send((sid,), "room.event", e)
        for e in j.buffer:
            self._sender.send((sid,), "room.event", e)
        j.buffer = []
        if ch.delivered is not None and ch.delivered < j.watermark:
            j.active = True  # ``_drain`` lets it in after its snapshot's seq
            return
        del ch.joining[sid]
        ch.live.add(sid)

    def cancel_join(self, room: str, sid: str) -> None:
        self.unsubscribe(room, sid)

    def unsubscribe(self, room: str, sid: str) -> None:
        ch = self.channels.get(room)
        if ch is None:
            return
        ch.live.discard(sid)
        ch.joining.pop(sid, None)
        if ch.empty:
            self._close(ch)

    def _close(self, ch: Channel) -> None:
        if ch.refill is not None:
            ch.refill.cancel()
        self.channels.pop(ch.room, None)

    def subscribers(self, room: str) -> set[str]:
        ch = self.channels.get(room)
        return set() if ch is None else ch.live | set(ch.joining)

    # -- delivery ----------------------------------------------------------------------------

    def deliver(self, room: str, events: Iterable[Wire]) -> None:
        ch = self.channels.get(room)
        if ch is None:
            return
        for e in events:
            seq = e["seq"]
            if ch.delivered is not None and seq <= ch.delivered:
                continue
            ch.pending[seq] = e
        if ch.delivered is None:
            return  # nobody here has a snapshot yet: the first finish_join sets the start
        self._drain(ch)

    def _drain(self, ch: Channel) -> None:
        sent = 0
        ended = False
        while ch.delivered is not None and ch.delivered + 1 in ch.pending:
            e = ch.pending.pop(ch.delivered + 1)
            ch.delivered = e["seq"]
            if ch.joining:
                self._let_in(ch, e["seq"])
            sent += self._sender.send(ch.live, "room.event", e)
            for j in ch.joining.values():
                if (j.watermark is None or e["seq"] > j.watermark) and len(j.buffer) < JOIN_BUFFER_MAX:
                    j.buffer.append(e)
            if e["type"] == "room.ended":
                ended = True
                break
        if sent:
            self._on_delivered(sent)
        if ended:
            sids = ch.live | set(ch.joining)
            self._close(ch)
            self._on_ended(ch.room, sids)
            return
        # Anything still pending is ahead of a gap: fill it if it does not close soon.
        if ch.pending and ch.refill is None:
            ch.refill = self._clock.call_later(self._gap_wait_ms, lambda: self._refill(ch))
        elif not ch.pending and ch.refill is not None:
            ch.refill.cancel()
            ch.refill = None

    @staticmethod
    def _let_in(ch: Channel, seq: int) -> None:
        """Joiners whose ack went out and whose snapshot is before ``seq`` go live now."""
        for sid, j in list(ch.joining.items()):
            if j.active and j.watermark is not None and j.watermark < seq:
                del ch.joining[sid]
                ch.live.add(sid)

    async def resync(self, room: str) -> bool:
        """Fetch what this worker may have missed of ``room`` while its link to the other
        workers was down, and deliver it in order. False when the store's log cannot
        close the gap (the room is gone, or too much happened): its clients must rejoin."""
        ch = self.channels.get(room)
        if ch is None or ch.delivered is None:
            return True
        missing = await self._fetch(room, ch.delivered)
        if self.channels.get(room) is not ch or ch.delivered is None:
            return True
        if missing is None:
            return False
        for e in missing:
            if e["seq"] > ch.delivered:
                ch.pending.setdefault(e["seq"], e)
        self._drain(ch)
        return True

    def _refill(self, ch: Channel) -> None:
        task = asyncio.ensure_future(self._fill_gap(ch))
        self._filling.add(task)
        task.add_done_callback(self._filling.discard)

    async def _fill_gap(self, ch: Channel) -> None:
        ch.refill = None
        if self.channels.get(ch.room) is not ch or not ch.pending or ch.delivered is None:
            return
        try:
            missing = await self._fetch(ch.room, ch.delivered)
        except Exception as err:  # the store is away (or a replica did not confirm): try again
            log.warning("gap not filled yet", extra={"room": ch.room, "reason": type(err).__name__})
            if self.channels.get(ch.room) is ch and ch.pending and ch.refill is None:
                ch.refill = self._clock.call_later(self._gap_wait_ms, lambda: self._refill(ch))
            return
        if missing is None:
            log.warning("gap older than the retained log", extra={"room": ch.room})
            # Nothing to refill from: skip ahead rather than stall the room forever.
            ch.delivered = min(ch.pending) - 1
        else:
            for e in missing:
                if e["seq"] > ch.delivered:
                    ch.pending.setdefault(e["seq"], e)
        self._drain(ch)

"""The media layer the gateway talks to (``base.Media``): peers and mixers per room.

Who may be heard is the core's answer, ``rules.audible(state)``, asked again after
every event that can change it. Before asking, an event that takes someone's voice
away (muted, left, lost the floor, room ended) silences them at once, so not one
packet of theirs is mixed after the event, however long the store takes to answer.

With several workers, one worker at a time serves a room's audio, whichever worker
each person's socket is on: ``router.MediaRouter`` routes the signalling to it, and
this hub is told the committed events of every room it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ..config import MediaConfig
from ..core import rules
from ..core.errors import CommandError
from ..service import RoomService
from ..tasks import TaskSet
from . import ice
from .mixer import RoomMixer
from .peer import OfferError, Peer

log = logging.getLogger("circles.media")

# Events after which the core may answer differently about who may be heard.
AUDIBILITY_EVENTS: Final = frozenset({
    "floor.granted", "floor.released", "participant.joined", "participant.updated", "participant.left",
    "settings.changed", "round.started", "round.ended", "room.ended",
})
# A store that cannot be reached is asked again after this long; meanwhile the room
# keeps the (possibly narrowed) set of voices it had.
RETRY_S: Final = 0.25


@dataclass
class RoomMedia:
    room: str
    mixer: RoomMixer
    peers: dict[str, Peer] = field(default_factory=dict)
    seen_seq: int = 0
    dirty: bool = False
    refresher: asyncio.Task[None] | None = None


class MediaHub:
    def __init__(self, service: RoomService, config: MediaConfig,
                 mixer_factory: Callable[[int], RoomMixer] = RoomMixer, fast_send: bool = True) -> None:
        self.service = service
        self.config = config
        self.rtc_config = ice.configuration(config.ice_servers)  # a bad entry stops the start
        # The bench swaps these for its baselines: a per-listener-encode mixer, and
        # aiortc's RTCRtpSender for every listener.
        self.mixer_factory = mixer_factory
        self.fast_send = fast_send
        self.rooms: dict[str, RoomMedia] = {}
        self._tasks = TaskSet()
        self._closing = False

    def room_count(self) -> int:
        return len(self.rooms)

    def peer_count(self) -> int:
        return sum(len(rm.peers) for rm in self.rooms.values())

    # -- the Media protocol ---------------------------------------------------------------------

    async def offer(self, room: str, participant: str, sdp: str, type_: str) -> dict[str, Any]:
        if type_ != "offer":
            raise CommandError("invalid", "type must be \"offer\"")
        if self._closing:
            raise CommandError("unavailable", "this server is shutting down")
        await self.service.load(room)  # not_found for a room that has ended
        await self.close(room, participant)  # a new offer replaces the old connection
        rm = self.rooms.get(room)
        if rm is None:
            rm = self.rooms[room] = RoomMedia(room, self.mixer_factory(self.config.opus_bitrate))
        peer = Peer(configuration=self.rtc_config, host_candidates=self.config.host_candidates,
                    sink=rm.mixer.sink(participant), on_gone=lambda p: self._gone(room, participant, p),
                    heard=lambda: rm.mixer.hears(participant), fast_send=self.fast_send)
        rm.peers[participant] = peer
        try:
            answer = await peer.answer(sdp)
        except OfferError as e:
            await self.close(room, participant)
            raise CommandError("invalid", str(e)) from None
        except BaseException:
            await self.close(room, participant)
            raise
        if self.rooms.get(room) is not rm or rm.peers.get(participant) is not peer:
            # They left (or offered again) while we were answering.
            await peer.close()
            raise CommandError("conflict", "audio was closed while it was being set up")
        rm.mixer.add_leg(participant, peer.downlink)
        self._mark(rm)
        log.info("audio started", extra={"room": room, "peers": len(rm.peers)})
        return {"sdp": answer, "type": "answer"}

    async def close(self, room: str, participant: str) -> None:
        rm = self.rooms.get(room)
        if rm is None:
            return
        peer = rm.peers.pop(participant, None)
        rm.mixer.remove_leg(participant)
        if not rm.peers:
            self._drop_room(rm)
        if peer is not None:
            await peer.close()
            log.info("audio stopped", extra={"room": room})

    def on_events(self, room: str, events: Sequence[dict[str, Any]]) -> None:
        rm = self.rooms.get(room)
        if rm is None:
            return
        changed = False
        for e in events:
            rm.seen_seq = max(rm.seen_seq, int(e.get("seq") or 0))
            kind = e.get("type")
            data = e.get("data") or {}
            if kind == "room.ended":
                rm.mixer.silence_all()
                self._spawn(self.close_room(room))
                return
            if kind == "participant.left":
                pid = data.get("participant_id")
                if isinstance(pid, str):
                    rm.mixer.silence(pid)
                    if pid in rm.peers:
                        self._spawn(self.close(room, pid))
            elif kind == "participant.updated":
                p = data.get("participant") or {}
                if isinstance(p.get("id"), str) and (p.get("muted") or not p.get("connected", True)):
                    rm.mixer.silence(p["id"])
            elif kind == "floor.released":
                pid = data.get("participant_id")
                if isinstance(pid, str):
                    rm.mixer.silence(pid)
            changed = changed or kind in AUDIBILITY_EVENTS
        if changed:
            self._mark(rm)

    def serves(self, room: str) -> bool:
        return room in self.rooms

    def has_peer(self, room: str, participant: str) -> bool:
        rm = self.rooms.get(room)
        return rm is not None and participant in rm.peers

    def recheck(self) -> None:
        for rm in list(self.rooms.values()):
            self._mark(rm)

    async def shutdown(self) -> None:
        self._closing = True
        for room in list(self.rooms):
            await self.close_room(room)
        await self._tasks.cancel_all()

    # -- who may be heard ---------------------------------------------------------------------

    def _mark(self, rm: RoomMedia) -> None:
        rm.dirty = True
        if rm.refresher is None or rm.refresher.done():
            rm.refresher = self._spawn(self._refresh(rm))

    async def _refresh(self, rm: RoomMedia) -> None:
        while rm.dirty and self.rooms.get(rm.room) is rm:
            rm.dirty = False
            try:
                state = await self.service.load(rm.room)
            except CommandError as e:
                if e.code == "not_found":
                    await self.close_room(rm.room)
                    return
                log.warning("cannot tell who may be heard; keeping the current voices", extra={"room": rm.room})
                rm.dirty = True
                await asyncio.sleep(RETRY_S)
                continue
            if state.seq < rm.seen_seq:
                rm.dirty = True  # a read older than an event we have seen: ask again
                await asyncio.sleep(0)
                continue
            if self.rooms.get(rm.room) is rm:
                rm.mixer.set_audible(rules.audible(state))

    # -- housekeeping -------------------------------------------------------------------------

    def _gone(self, room: str, participant: str, peer: Peer) -> None:
        rm = self.rooms.get(room)
        if rm is not None and rm.peers.get(participant) is peer:
            self._spawn(self.close(room, participant))

    async def close_room(self, room: str) -> None:
        rm = self.rooms.get(room)
        if rm is None:
            return
        self._drop_room(rm)
        peers = list(rm.peers.values())
        rm.peers.clear()
        for peer in peers:
            await peer.close()

    def _drop_room(self, rm: RoomMedia) -> None:
        if self.rooms.get(rm.room) is rm:
            del self.rooms[rm.room]
        rm.mixer.close()
        if rm.refresher is not None and rm.refresher is not asyncio.current_task():
            rm.refresher.cancel()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = self._tasks.spawn(coro)
        task.add_done_callback(_log_failure)
        return task


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        with contextlib.suppress(Exception):
            log.error("media task failed", exc_info=task.exception())

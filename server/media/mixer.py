"""One room's mixer: mix-minus of everyone who may be heard, encoded once per mix.

Who may be heard is not decided here: the hub asks the core (``rules.audible``) and
calls ``set_audible``. A participant outside that set is never decoded, let alone
mixed: their packets are dropped at the receive tap.

Mixes. Listeners who may not be heard all hear the same thing, the sum of every
audible voice: one encode, shared. Each audible speaker hears that sum minus their own
voice: one encode each. Every listener of a mix is sent the very same encoded bytes.

Pacing. The room has no fixed tick phase: a mix is made as soon as every audible
speaker who is sending has delivered their next 20 ms (so a lone speaker's voice goes
out the moment it arrives, with no wait for a tick), and at the latest ``LATE_S``
after the slot was due, without whoever is late. With nobody speaking the room keeps
an exact 20 ms cadence of silence packets, so listeners' players never starve.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Final

import numpy as np

from .downlink import Leg, Outgoing
from .inbox import SpeakerInbox
from .opus import FRAME_MS, FRAME_SAMPLES, OpusEncoder, Pcm, silence_payload

log = logging.getLogger("circles.media")

FRAME_S: Final = FRAME_MS / 1000
# A speaker's frame may be mixed this much before its slot: arrivals that drift early
# (a sender clock a little fast, a burst after a stall) are taken at once.
EARLY_S: Final = 0.010
# How long a slot waits past its time for a speaker's late packet before mixing the
# others without it (it is mixed at the next slot instead). Only late packets pay this.
LATE_S: Final = 0.012
# A mixing failure is logged at most this often (a persistent one would fail 50 times a second).
FAILURE_LOG_EVERY_S: Final = 10.0

MixKey = str | None  # None: the mix of everyone audible; a participant id: everyone but them


class RoomMixer:
    def __init__(self, bitrate: int, *, now: Callable[[], float] = time.monotonic) -> None:
        self._bitrate = bitrate
        self._now = now
        self._silence = silence_payload(bitrate)
        self._legs: dict[str, Leg] = {}
        self._inboxes: dict[str, SpeakerInbox] = {}  # audible participants with a peer
        self._audible: frozenset[str] = frozenset()
        self._groups: dict[MixKey, list[Leg]] = {}
        self._encoders: dict[MixKey, OpusEncoder] = {}
        self._pts = 0
        self._due = now() + FRAME_S
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._closed = False
        self._failure_logged = -FAILURE_LOG_EVERY_S
        # Counters for tests, the bench and the metrics.
        self.mixes = 0
        self.encodes = 0

    # -- membership --------------------------------------------------------------------------

    def add_leg(self, participant: str, leg: Leg) -> None:
        self._legs[participant] = leg
        self._regroup()
        self._schedule()

    def remove_leg(self, participant: str) -> None:
        self._legs.pop(participant, None)
        self._inboxes.pop(participant, None)
        self._regroup()

    def set_audible(self, audible: Iterable[str]) -> None:
        """Who may be heard now, as the core says."""
        self._audible = frozenset(audible)
        for pid in list(self._inboxes):
            if pid not in self._audible or pid not in self._legs:
                del self._inboxes[pid]
        for pid in self._audible:
            if pid in self._legs and pid not in self._inboxes:
                self._inboxes[pid] = SpeakerInbox()
        self._regroup()

    def silence(self, participant: str) -> None:
        """Stop hearing someone at once (muted, left, lost the floor), before the core
        is asked again; ``set_audible`` may let them back in if they still may speak."""
        if participant in self._audible:
            self.set_audible(self._audible - {participant})

    def silence_all(self) -> None:
        self.set_audible(())

    def hears(self, participant: str) -> bool:
        return participant in self._inboxes

    @property
    def speakers(self) -> frozenset[str]:
        """Participants whose voice is being mixed now."""
        return frozenset(self._inboxes)

    def mix_of(self, participant: str) -> MixKey:
        return participant if participant in self._inboxes else None

    def _regroup(self) -> None:
        groups: dict[MixKey, list[Leg]] = {}
        for pid, leg in self._legs.items():
            groups.setdefault(self.mix_of(pid), []).append(leg)
        self._groups = groups
        for key in list(self._encoders):
            if key not in groups:
                del self._encoders[key]

    # -- input -------------------------------------------------------------------------------

    def sink(self, participant: str) -> Callable[[int, bytes], None]:
        """Where ``participant``'s receive tap hands their packets."""
        def on_packet(seq: int, payload: bytes) -> None:
            inbox = self._inboxes.get(participant)
            if inbox is None or self._closed:
                return  # may not be heard: never decoded, never forwarded
            now = self._now()
            if inbox.push(seq, payload, now):
                self._tick(now)
        return on_packet

    # -- pacing ------------------------------------------------------------------------------

    def _all_ready(self, now: float) -> bool:
        """Someone has a frame, and nobody who is sending is still missing theirs."""
        anyone = False
        for inbox in self._inboxes.values():
            if inbox.ready():
                anyone = True
            elif inbox.active(now):
                return False
        return anyone

    def _tick(self, now: float) -> None:
        if self._closed:
            return
        try:
            if self._all_ready(now):
                if now >= self._due - EARLY_S:
                    self._mix()
                    self._due = now + FRAME_S
            elif now >= self._due + (LATE_S if self._anyone_active(now) else 0.0):
                self._mix()
                # With speakers, follow them; with nobody, keep an exact 20 ms grid.
                self._due = now + FRAME_S if self._anyone_active(now) else self._due + FRAME_S
                if self._due < now:  # the loop stalled: resume, do not burst to catch up
                    self._due = now + FRAME_S
        except Exception:
            if now - self._failure_logged >= FAILURE_LOG_EVERY_S:
                self._failure_logged = now
                log.exception("mixing failed")
            self._due = now + FRAME_S
        self._schedule()

    def _anyone_active(self, now: float) -> bool:
        return any(inbox.active(now) for inbox in self._inboxes.values())

    def _schedule(self) -> None:
        if self._closed or not self._legs:
            return
        now = self._now()
        if self._all_ready(now):
            at = self._due - EARLY_S
        else:
            at = self._due + (LATE_S if self._anyone_active(now) else 0.0)
        if self._timer is not None:
            if abs(at - self._timer_at) < 0.0005:
                return
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer_at = at
        self._timer = loop.call_at(loop.time() + max(0.0, at - now), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._tick(self._now())

    # -- mixing ------------------------------------------------------------------------------

    def _mix(self) -> None:
        voices: dict[str, Pcm] = {}
        for pid, inbox in self._inboxes.items():
            pcm = inbox.take()
            if pcm is not None:
                voices[pid] = pcm
        total = None
        if voices:
            total = np.zeros(FRAME_SAMPLES, dtype=np.int32)
            for pcm in voices.values():
                total += pcm
        pts = self._pts
        self._pts += FRAME_SAMPLES
        self.mixes += 1
        self._deliver(voices, total, pts)

    def _deliver(self, voices: dict[str, Pcm], total: np.ndarray | None, pts: int) -> None:
        for key, legs in self._groups.items():
            out = Outgoing(self._encode(key, voices, total, pts), pts)
            for leg in legs:
                leg.send(out)

    def _encode(self, key: MixKey, voices: dict[str, Pcm], total: np.ndarray | None, pts: int) -> bytes:
        own = voices.get(key) if key is not None else None
        if total is None or (own is not None and len(voices) == 1):
            # Nobody else to hear: send silence and let this mix's encoder go, so the
            # next voice starts from a fresh encoder whose state matches the listener's
            # decoder (which has only decoded silence since).
            self._encoders.pop(key, None)
            return self._silence
        mixed = total - own if own is not None else total
        pcm = np.clip(mixed, -32768, 32767).astype(np.int16)
        encoder = self._encoders.get(key)
        if encoder is None:
            encoder = self._encoders[key] = OpusEncoder(self._bitrate)
        packet = encoder.encode(pcm, pts)
        self.encodes += 1
        return bytes(packet) if packet is not None else self._silence

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._legs.clear()
        self._inboxes.clear()
        self._groups.clear()
        self._encoders.clear()

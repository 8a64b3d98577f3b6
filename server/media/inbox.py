"""One speaker's incoming voice: decoded at once, held only until the next mix.

This replaces a jitter buffer on the server. A packet is decoded the moment it
arrives and its PCM waits here for the mixer, which takes exactly one 20 ms frame per
mix. Nothing queues up: a packet older than the newest one seen is dropped (it is
late, the mix has moved on), the backlog is capped, and a standing backlog (the
speaker's clock runs a little fast, or a burst arrived) is trimmed so the speaker's
delay falls back to one frame at most.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from .opus import FRAME_SAMPLES, OpusDecoder, Pcm

# The most PCM held for one speaker: three frames (60 ms). More than that means the
# mixer cannot keep up or the sender bursts; the oldest audio is dropped, not delayed.
MAX_BACKLOG_SAMPLES: Final = 3 * FRAME_SAMPLES
# A speaker who kept a whole spare frame queued at this many mixes in a row has a
# standing backlog (20 ms of avoidable delay); one frame is dropped to remove it.
STANDING_BACKLOG_MIXES: Final = 25
# A speaker whose last packet is older than this is not waited for when mixing: they
# stopped sending (muted in the browser, network gone) and the others must go on.
ACTIVE_WINDOW_S: Final = 0.06


def _newer(a: int, b: int) -> bool:
    """RTP sequence number ``a`` comes after ``b`` (16-bit wrap-around)."""
    return a != b and (a - b) & 0xFFFF < 0x8000


class SpeakerInbox:
    def __init__(self) -> None:
        self._decoder = OpusDecoder()
        self._chunks: list[Pcm] = []
        self._samples = 0
        self._last_seq: int | None = None
        self._last_arrival = -1.0
        self._standing = 0
        self.dropped = 0  # frames dropped as late or over the cap, for the metrics

    @property
    def samples(self) -> int:
        return self._samples

    def ready(self) -> bool:
        return self._samples >= FRAME_SAMPLES

    def active(self, now: float) -> bool:
        return now - self._last_arrival <= ACTIVE_WINDOW_S

    def push(self, seq: int, payload: bytes, now: float) -> bool:
        """Decode one RTP payload. False when it was dropped as late or undecodable."""
        if self._last_seq is not None and not _newer(seq, self._last_seq):
            self.dropped += 1
            return False
        self._last_seq = seq
        self._last_arrival = now
        try:
            frames = self._decoder.decode(payload)
        except Exception:  # a corrupt packet must not stop the room's audio
            self.dropped += 1
            return False
        for pcm in frames:
            self._chunks.append(pcm)
            self._samples += len(pcm)
        while self._samples > MAX_BACKLOG_SAMPLES:
            self._drop(len(self._chunks[0]))
        return True

    def take(self) -> Pcm | None:
        """The next 20 ms of this speaker's voice, or None if it has not arrived."""
        if self._samples < FRAME_SAMPLES:
            return None
        if self._samples >= 2 * FRAME_SAMPLES:
            self._standing += 1
            if self._standing >= STANDING_BACKLOG_MIXES:
                self._standing = 0
                self._pop(FRAME_SAMPLES)
        else:
            self._standing = 0
        return self._pop(FRAME_SAMPLES)

    def clear(self) -> None:
        """Forget queued voice (the speaker was silenced); the decoder starts afresh."""
        self._chunks.clear()
        self._samples = 0
        self._standing = 0
        self._decoder = OpusDecoder()

    def _drop(self, n: int) -> None:
        self.dropped += 1
        self._pop(n)

    def _pop(self, n: int) -> Pcm:
        first = self._chunks[0]
        if len(first) == n:
            self._chunks.pop(0)
            self._samples -= n
            return first
        if len(first) > n:
            self._chunks[0] = first[n:]
            self._samples -= n
            return first[:n]
        out = np.concatenate(self._chunks)
        head, rest = out[:n], out[n:]
        self._chunks = [rest] if len(rest) else []
        self._samples = len(rest)
        return head

"""Real aiortc client peers for the media tests and the media bench.

A peer sends a generated tone (or silence) as its microphone and records what the
server sends back, with arrival times. Every peer offers 127.0.0.1 only and uses no
STUN server (or, given ``relay``, only a TURN server on 127.0.0.1), so no packet leaves
the loopback interface.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack, RTCIceTransportPolicy, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from server.media import ice

RATE = 48_000
FRAME = 960
TIME_BASE = fractions.Fraction(1, RATE)
LOOPBACK = ("127.0.0.1",)

Samples = npt.NDArray[np.int16]


class ToneTrack(MediaStreamTrack):
    """A microphone that plays a sine (s16 mono 48 kHz, 20 ms frames) in real time.

    ``playing`` switches the tone on and off; ``onsets`` records, for the bench, the
    moment each switch-on reached the sender (the frame that carries it was handed over).
    """

    kind = "audio"

    def __init__(self, freq: float, amplitude: float = 0.3, playing: bool = True) -> None:
        super().__init__()
        self.freq = freq
        self.amplitude = amplitude
        self.playing = playing
        self.onsets: list[float] = []
        self._was_playing = False
        self._pts = 0
        self._start: float | None = None

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        else:
            delay = self._start + self._pts / RATE - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        if self.playing:
            n = np.arange(self._pts, self._pts + FRAME)
            pcm = (np.sin(2 * math.pi * self.freq * n / RATE) * self.amplitude * 32767).astype(np.int16)
            if not self._was_playing:
                self.onsets.append(time.perf_counter())
        else:
            pcm = np.zeros(FRAME, dtype=np.int16)
        self._was_playing = self.playing
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = TIME_BASE
        self._pts += FRAME
        return frame


class Recorder:
    """Reads a received track: keeps (arrival time, mono PCM) per frame."""

    def __init__(self) -> None:
        self.frames: list[tuple[float, Samples]] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def start(self, track: MediaStreamTrack) -> None:
        self._task = asyncio.ensure_future(self._run(track))

    async def _run(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                assert isinstance(frame, AudioFrame)
                pcm = frame.to_ndarray().reshape(-1)
                if frame.layout.name == "stereo":
                    pcm = pcm[0::2]
                async with self._changed:
                    self.frames.append((time.perf_counter(), pcm.astype(np.int16)))
                    self._changed.notify_all()
        except MediaStreamError:
            pass

    async def wait_for(self, pred: Callable[[], Any], timeout: float = 5.0) -> Any:
        async def _wait() -> Any:
            async with self._changed:
                while not (got := pred()):
                    await self._changed.wait()
                return got
        return await asyncio.wait_for(_wait(), timeout)

    async def collect(self, seconds: float) -> Samples:
        """The audio received over the next ``seconds`` (waits for the frames to arrive)."""
        first = len(self.frames)
        need = int(seconds * RATE / FRAME)
        await self.wait_for(lambda: len(self.frames) >= first + need, timeout=seconds + 5)
        return np.concatenate([pcm for _, pcm in self.frames[first:first + need]])

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


Signal = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


class AudioPeer:
    """One participant's RTCPeerConnection to the server (or to another peer)."""

    def __init__(self, tone: ToneTrack | None = None, relay: list[dict[str, Any]] | None = None) -> None:
        """``relay``: TURN servers to reach the server through, and only through them
        (the relay transport policy: no host candidate is offered)."""
        self.tone = tone or ToneTrack(440, amplitude=0.0)
        config = ice.configuration(relay or [])
        if relay:
            config.iceTransportPolicy = RTCIceTransportPolicy.RELAY
        self.pc = RTCPeerConnection(config)
        self.pc.addTransceiver(self.tone, direction="sendrecv")
        if not relay:
            ice.offer_only(self.pc, LOOPBACK)
        self.recorder = Recorder()
        self.offer_sdp = ""
        self.answer_sdp = ""

        @self.pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            self.recorder.start(track)

    async def make_offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.offer_sdp = str(self.pc.localDescription.sdp)
        return self.offer_sdp

    async def accept(self, sdp: str) -> None:
        self.answer_sdp = sdp
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def connect(self, call: Signal, room: str) -> dict[str, Any]:
        """Offer through the server's ``rtc.offer`` and apply its answer."""
        ack = await call("rtc.offer", {"room": room, "sdp": await self.make_offer(), "type": "offer"})
        if ack.get("ok"):
            await self.accept(ack["sdp"])
        return ack

    async def close(self) -> None:
        await self.recorder.stop()
        await self.pc.close()


def tone_level(pcm: Samples, freq: float) -> float:
    """Amplitude (fraction of full scale) of the ``freq`` component of ``pcm``."""
    if len(pcm) == 0:
        return 0.0
    x = pcm.astype(np.float64) / 32767
    window = np.hanning(len(x))
    n = np.arange(len(x))
    component = np.sum(x * window * np.exp(-2j * math.pi * freq * n / RATE))
    return float(2 * abs(component) / np.sum(window))


def hears(pcm: Samples, freq: float, threshold: float = 0.05) -> bool:
    return tone_level(pcm, freq) >= threshold

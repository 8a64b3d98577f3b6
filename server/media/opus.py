"""Opus in and out: one decoder per speaker, one encoder per distinct mix.

Everything the server hears and says is 48 kHz mono 16-bit PCM cut into 20 ms frames.
Encoding is the expensive step (a few hundred microseconds a frame on a small box),
which is why a mix is encoded once and the same packets go to all its listeners.
"""

from __future__ import annotations

import fractions
import functools
from typing import Final

import av
import numpy as np
import numpy.typing as npt
from av import AudioFrame, CodecContext

SAMPLE_RATE: Final = 48_000
FRAME_MS: Final = 20
FRAME_SAMPLES: Final = SAMPLE_RATE * FRAME_MS // 1000  # 960
TIME_BASE: Final = fractions.Fraction(1, SAMPLE_RATE)
# FEC (Opus in-band LBRR) is tuned by the loss the encoder expects: 10 % spends a
# modest share of the bitrate on redundancy, enough to hide single lost packets on a
# phone's weak link without making the voice itself noticeably worse.
EXPECTED_LOSS_PERCENT: Final = 10

Pcm = npt.NDArray[np.int16]


class OpusEncoder:
    """Mono voice encoder: 20 ms frames, VBR at ``bitrate``, in-band FEC on."""

    def __init__(self, bitrate: int) -> None:
        self._codec = CodecContext.create("libopus", "w")
        self._codec.format = "s16"
        self._codec.layout = "mono"
        self._codec.sample_rate = SAMPLE_RATE
        self._codec.bit_rate = bitrate
        self._codec.time_base = TIME_BASE
        self._codec.options = {
            "application": "voip",
            "frame_duration": str(FRAME_MS),
            "fec": "1",
            "packet_loss": str(EXPECTED_LOSS_PERCENT),
        }

    def encode(self, pcm: Pcm, pts: int) -> av.Packet | None:
        """One frame of PCM in, one packet out stamped with ``pts`` (48 kHz units)."""
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = pts
        frame.time_base = TIME_BASE
        packets = self._codec.encode(frame)
        if not packets:
            return None
        packet = packets[-1]
        # The encoder's own pts is offset by its look-ahead; listeners need the room's.
        packet.pts = pts
        packet.time_base = TIME_BASE
        return packet


class OpusDecoder:
    """One speaker's decoder; any Opus frame length in, 48 kHz mono PCM out."""

    def __init__(self) -> None:
        self._codec = CodecContext.create("libopus", "r")
        self._codec.format = "s16"
        self._codec.layout = "mono"
        self._codec.sample_rate = SAMPLE_RATE

    def decode(self, payload: bytes) -> list[Pcm]:
        out: list[Pcm] = []
        for frame in self._codec.decode(av.Packet(payload)):
            out.append(frame.to_ndarray().reshape(-1).astype(np.int16, copy=False))
        return out


@functools.lru_cache(maxsize=8)
def silence_payload(bitrate: int) -> bytes:
    """An Opus packet that decodes to 20 ms of silence, sent when a mix has no voice.

    Made by a real encoder rather than written as a magic constant, so it always
    matches the stream's settings.
    """
    encoder = OpusEncoder(bitrate)
    zeros = np.zeros(FRAME_SAMPLES, dtype=np.int16)
    packet = None
    pts = 0
    while packet is None:
        packet = encoder.encode(zeros, pts)
        pts += FRAME_SAMPLES
    return bytes(packet)

"""Take a speaker's packets straight off aiortc's receive path.

aiortc's ``RTCRtpReceiver`` puts audio through ``JitterBuffer(capacity=16,
prefetch=4)``: a packet is released only when four newer ones have arrived, so 80 ms
of delay before anything is decoded, then a hop to a decoder thread and two queues.
For a mixing server that is the wrong place to buffer: the mixer already paces
itself to the speakers (see ``mixer.py``). ``ReceiveTap`` takes the jitter buffer's
place in the receiver and hands every Opus payload to a sink the moment it arrives;
it never returns a frame, so aiortc's decoder thread stays idle.

The receiver keeps its buffer in a private attribute; ``install`` checks it is there
and fails loudly (rather than silently leaving the 80 ms in) if aiortc changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from aiortc import RTCRtpReceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

_SLOT: Final = "_RTCRtpReceiver__jitter_buffer"

# (sequence number, Opus payload)
Sink = Callable[[int, bytes], None]


class ReceiveTap(JitterBuffer):
    def __init__(self, sink: Sink) -> None:
        super().__init__(capacity=1)
        self._sink = sink

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        if packet.payload:
            self._sink(packet.sequence_number, packet.payload)
        return False, None


def install(receiver: RTCRtpReceiver, sink: Sink) -> None:
    if not isinstance(getattr(receiver, _SLOT, None), JitterBuffer):
        raise RuntimeError("this aiortc version keeps no audio jitter buffer where Circles expects one; "
                           "pin aiortc to a version tested with server/media/tap.py")
    setattr(receiver, _SLOT, ReceiveTap(sink))

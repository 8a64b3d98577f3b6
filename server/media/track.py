"""A listener's outgoing track: already-encoded packets, handed over as they are mixed.

aiortc's ``RTCRtpSender`` asks its track for the next item; when that is an
``av.Packet`` rather than a frame it only packetises it (``Encoder.pack``): no
encode. So every listener of one mix gets the same packet object and the cost of a
listener is RTP framing, SRTP and one ``sendto``.

The track never waits on a clock of its own: the mixer pushes, the sender pulls. If
the sender falls behind, the oldest packets are dropped: late audio is worse than a
gap.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

# Packets held for a sender that has not come back for the last one (40 ms).
MAX_PENDING: Final = 2


class PacketTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pending: deque[av.Packet] = deque(maxlen=MAX_PENDING)
        self._waiter: asyncio.Future[av.Packet] | None = None

    def push(self, packet: av.Packet) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._waiter = None
            waiter.set_result(packet)
        else:
            self._pending.append(packet)

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        if self._pending:
            return self._pending.popleft()
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            return await self._waiter
        finally:
            self._waiter = None

    def stop(self) -> None:
        super().stop()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(MediaStreamError())

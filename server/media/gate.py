"""Drop the voice of someone who may not be heard before aiortc spends time on it.

In a circle most people are not holding the floor, and most browsers keep sending 50
packets a second whenever there is any sound in the room. aiortc takes each packet
through a queue, a task, SRTP decryption, RTP parsing, statistics and the receiver
(about 100 µs of server CPU each on a small box), only for the receive tap to throw it
away. ``UplinkGate`` sits where aioice hands a datagram to its connection and drops the
RTP of a participant the mixer is not hearing, after reading its plain-text header:

* RTCP, STUN and DTLS always go through, as does every RTP packet of someone heard;
* the receiver's reception statistics still count every dropped packet (sequence
  number and timestamp are not encrypted), so the RTCP receiver reports the browser
  gets show no loss, and its encoder does not turn down quality for the next share;
* one packet in ``PASS_EVERY`` still goes through, because SRTP tracks the 48-bit
  packet index from the sequence numbers it sees and must never miss 2^15 in a row.

Like ``tap`` and ``downlink`` this reaches into aiortc and aioice; ``install`` checks
everything is where it expects and otherwise leaves the connection as it is.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from typing import Any, Final, NamedTuple

from aioice import Connection
from aiortc import RTCRtpTransceiver

log = logging.getLogger("circles.media")

# One packet a second of a silenced sender is still decrypted (see above).
PASS_EVERY: Final = 50
_STREAMS: Final = "_RTCRtpReceiver__remote_streams"
_HEADER: Final = struct.Struct("!HII")  # sequence number, timestamp, SSRC (bytes 2-11)


class _Header(NamedTuple):
    """What ``StreamStatistics.add`` reads of a packet."""

    sequence_number: int
    timestamp: int


class UplinkGate:
    def __init__(self, forward: Callable[[bytes, int], None], streams: dict[int, Any],
                 is_open: Callable[[], bool]) -> None:
        self._forward = forward
        self._streams = streams
        self._is_open = is_open
        self._count = 0
        self.dropped = 0

    @classmethod
    def install(cls, transceiver: RTCRtpTransceiver, is_open: Callable[[], bool]) -> UplinkGate | None:
        try:
            conn = transceiver.receiver.transport.transport._connection
            streams = getattr(transceiver.receiver, _STREAMS)
            forward = conn.data_received
            ok = isinstance(conn, Connection) and isinstance(streams, dict) and callable(forward)
        except AttributeError:
            ok = False
        if not ok:
            log.info("uplink gate not installed (aiortc is not as expected); silenced voices are dropped later")
            return None
        gate = cls(forward, streams, is_open)
        setattr(conn, "data_received", gate.data_received)  # noqa: B010 (per instance, on purpose)
        return gate

    def data_received(self, data: bytes, component: int) -> None:
        # RTP and RTCP start 0b10 (RFC 7983); RTCP packet types are 192-223 (RFC 5761).
        if len(data) < 12 or not 128 <= data[0] < 192 or 192 <= data[1] <= 223 or self._is_open():
            self._forward(data, component)
            return
        seq, ts, ssrc = _HEADER.unpack_from(data, 2)
        stats = self._streams.get(ssrc)
        self._count += 1
        if stats is None or self._count % PASS_EVERY == 0:
            self._forward(data, component)  # the receiver's statistics start with this one
            return
        stats.add(_Header(seq, ts))
        self.dropped += 1

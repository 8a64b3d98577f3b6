"""A listener's downlink: the mix's packets into this listener's RTP session.

Encoding is paid once per mix; what is left per listener is RTP framing, SRTP and one
``sendto``, and that is all this module does. aiortc's ``RTCRtpSender`` would do it
too (it packetises an ``av.Packet`` without re-encoding), but through a task wake-up,
a future, a Fraction time-base conversion, an NTP clock reading and four awaits per
packet per listener: about three times the cost of the work itself. ``FastPath``
frames the packet and hands it to the SRTP session and the ICE pair's socket directly,
in the mixer's own callback.

``FastPath`` reaches into aiortc's transports (the SRTP session, the nominated ICE
pair). ``FastPath.attach`` checks every piece is where it expects; if aiortc has
changed, the listener is served through ``RTCRtpSender`` (``PacketTrack``) instead:
slower, never wrong. aiortc's own sender stays in place, idle, and keeps sending RTCP
sender reports, whose counters we keep up to date.
"""

from __future__ import annotations

import logging
import random
import re
import struct
from dataclasses import dataclass
from typing import Any, Final, Protocol

import av
from aioice.ice import StunProtocol
from aiortc import RTCRtpTransceiver, clock

from .opus import TIME_BASE
from .track import PacketTrack

log = logging.getLogger("circles.media")

_HEADER: Final = struct.Struct("!BBHII")
_MID_URI: Final = "urn:ietf:params:rtp-hdrext:sdes:mid"
# Refresh the RTCP sender-report counters of aiortc's idle sender this often (packets):
# reports go out about once a second, so once a second is as fresh as they need.
_REPORT_EVERY: Final = 50
_SENDER: Final = "_RTCRtpSender__"


@dataclass(slots=True)
class Outgoing:
    """One mix's packet for one 20 ms slot, shared by all that mix's listeners."""

    payload: bytes
    pts: int
    _packet: av.Packet | None = None

    def packet(self) -> av.Packet:
        """As an ``av.Packet`` for ``RTCRtpSender`` (made once, for all fallback legs)."""
        if self._packet is None:
            packet = av.Packet(self.payload)
            packet.pts = self.pts
            packet.time_base = TIME_BASE
            self._packet = packet
        return self._packet


class Leg(Protocol):
    """Where the mixer sends one listener's packets."""

    def send(self, out: Outgoing) -> None: ...


@dataclass(frozen=True)
class AnsweredAudio:
    """What our SDP answer fixed for the audio we send."""

    payload_type: int
    mid: str | None
    mid_ext_id: int | None

    @classmethod
    def parse(cls, sdp: str) -> AnsweredAudio | None:
        m = re.search(r"^m=audio \S+ \S+ (\d+)", sdp, re.M)
        if m is None:
            return None
        section = sdp[m.start():]
        nxt = re.search(r"^m=", section[2:], re.M)
        if nxt is not None:
            section = section[:nxt.start() + 2]
        mid = re.search(r"^a=mid:(\S+)", section, re.M)
        ext = re.search(rf"^a=extmap:(\d+)(?:/\S+)? {re.escape(_MID_URI)}\s*$", section, re.M)
        return cls(int(m.group(1)), mid.group(1) if mid else None, int(ext.group(1)) if ext else None)

    def extension(self) -> bytes:
        """The RTP header extension block carrying the MID (RFC 8285 one-byte form)."""
        if self.mid is None or self.mid_ext_id is None or not 1 <= len(self.mid) <= 16:
            return b""
        mid = self.mid.encode()
        element = bytes([(self.mid_ext_id << 4) | (len(mid) - 1)]) + mid
        element += b"\0" * (-len(element) % 4)
        return struct.pack("!HH", 0xBEDE, len(element) // 4) + element


class FastPath:
    def __init__(self, protect: Any, transport: Any, addr: tuple[str, int], ssrc: int, audio: AnsweredAudio,
                 sender: Any) -> None:
        self._protect = protect
        self._transport = transport
        self._addr = addr
        self._ssrc = ssrc
        self._pt = audio.payload_type
        self._ext = audio.extension()
        self._first = 0x90 if self._ext else 0x80
        self._seq = random.randrange(32768)  # as aiortc: low half, so SRTP's index never wraps early
        self._ts0 = random.getrandbits(32)
        self._marker = 0x80  # the first packet starts a talkspurt
        self._sender = sender
        self.packets = 0
        self.octets = 0
        self.dead = False

    @classmethod
    def attach(cls, transceiver: RTCRtpTransceiver, answer_sdp: str) -> FastPath | None:
        try:
            sender = transceiver.sender
            dtls = sender.transport
            srtp = dtls._tx_srtp
            pair = dtls.transport._connection._nominated[1]
            # A plain UDP pair only: a TURN relay frames its data, so it keeps aiortc's path.
            direct = type(pair.protocol) is StunProtocol
            transport = pair.protocol.transport
            addr = pair.remote_addr
            ssrc = sender._ssrc
            audio = AnsweredAudio.parse(answer_sdp)
            protect = srtp.protect
            ok = (direct and audio is not None and isinstance(ssrc, int) and callable(protect)
                  and dtls.state == "connected" and hasattr(transport, "sendto")
                  and all(hasattr(sender, f"{_SENDER}{name}") for name in (
                      "packet_count", "octet_count", "rtp_timestamp", "ntp_timestamp")))
        except (AttributeError, KeyError, TypeError):
            ok = False
        if not ok:
            log.info("serving a listener through RTCRtpSender (relayed, or aiortc is not as expected)")
            return None
        assert audio is not None
        return cls(protect, transport, addr, ssrc, audio, sender)

    def send(self, payload: bytes, pts: int) -> None:
        if self.dead:
            return
        if self._transport.is_closing():  # ICE closed; the peer is being closed too
            self.dead = True
            return
        ts = (self._ts0 + pts) & 0xFFFFFFFF
        rtp = _HEADER.pack(self._first, self._marker | self._pt, self._seq, ts, self._ssrc) + self._ext + payload
        self._transport.sendto(self._protect(rtp), self._addr)
        self._marker = 0
        self._seq = (self._seq + 1) & 0xFFFF
        self.packets += 1
        self.octets += len(payload)
        if self.packets % _REPORT_EVERY == 1:
            self._report(ts)

    def _report(self, ts: int) -> None:
        """Keep aiortc's RTCP sender reports true: its sender sends nothing itself."""
        s = self._sender
        setattr(s, f"{_SENDER}packet_count", self.packets)
        setattr(s, f"{_SENDER}octet_count", self.octets)
        setattr(s, f"{_SENDER}rtp_timestamp", ts)
        setattr(s, f"{_SENDER}ntp_timestamp", clock.current_ntp_time())


class Downlink:
    """What the mixer sends to: the fast path once connected, else ``RTCRtpSender``."""

    def __init__(self) -> None:
        self.track = PacketTrack()
        self._fast: FastPath | None = None
        self._fallback = False
        self.sent = 0

    @property
    def fast(self) -> bool:
        return self._fast is not None

    def connected(self, transceiver: RTCRtpTransceiver, answer_sdp: str, allow_fast: bool = True) -> None:
        """The listener's DTLS is up: from now on packets can go out."""
        if self._fast is None and not self._fallback:
            self._fast = FastPath.attach(transceiver, answer_sdp) if allow_fast else None
            self._fallback = self._fast is None

    def send(self, out: Outgoing) -> None:
        if self._fast is not None:
            self._fast.send(out.payload, out.pts)
            self.sent += 1
        elif self._fallback:
            self.track.push(out.packet())
            self.sent += 1
        # else: not connected yet, and 20 ms of audio is not worth holding for later

    def close(self) -> None:
        if self._fast is not None:
            self._fast.dead = True
        self.track.stop()

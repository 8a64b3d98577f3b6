"""One participant's RTCPeerConnection: their voice up, their room's mix down.

The transceiver is made by us before the client's offer is applied, so the offer's
audio m-line binds to it: one track up (taken by the receive tap), one track down (the
``Downlink`` the mixer sends to). Opus is the only codec answered, because the packets
we send are Opus whatever the client listed first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Sequence
from typing import Final

from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCRtpTransceiver, RTCSessionDescription

from . import ice, tap
from .downlink import Downlink
from .gate import UplinkGate
from .tap import Sink

log = logging.getLogger("circles.media")

# What we ask of the client's Opus encoder (RFC 7587 fmtp, in our answer): in-band FEC,
# so a lost packet on a phone's weak uplink can be recovered from the next one; and DTX,
# so a quiet or muted participant sends a packet every 400 ms instead of 50 a second,
# which is most of what a listener costs the server on the way in.
OPUS_FMTP: Final = "minptime=10;useinbandfec=1;usedtx=1"
# An answered connection that has not connected by then is given up (the client, for
# its part, gives up after 8 s and offers again).
CONNECT_TIMEOUT_S: Final = 15.0


def with_opus_fmtp(sdp: str) -> str:
    """``sdp`` with ``OPUS_FMTP`` on every Opus payload type (aiortc writes none)."""
    eol = "\r\n" if "\r\n" in sdp else "\n"
    lines = sdp.split(eol)
    opus = {m.group(1) for line in lines if (m := re.match(r"a=rtpmap:(\d+) opus/48000", line, re.I))}
    wanted = dict(kv.split("=", 1) for kv in OPUS_FMTP.split(";"))
    out: list[str] = []
    for line in lines:
        m = re.match(r"a=fmtp:(\d+) (.*)", line)
        if m and m.group(1) in opus:
            params = dict(kv.split("=", 1) for kv in m.group(2).split(";") if "=" in kv)
            line = f"a=fmtp:{m.group(1)} " + ";".join(f"{k}={v}" for k, v in {**params, **wanted}.items())
            opus.discard(m.group(1))
        out.append(line)
    for pt in opus:  # no fmtp line yet: add one after the rtpmap
        at = next(i for i, line in enumerate(out) if line.lower().startswith(f"a=rtpmap:{pt} opus/"))
        out.insert(at + 1, f"a=fmtp:{pt} {OPUS_FMTP}")
    return eol.join(out)


class OfferError(ValueError):
    """The client's offer cannot be answered (no audio, no Opus, not SDP)."""


class Peer:
    def __init__(self, *, configuration: RTCConfiguration, host_candidates: Sequence[str] | None,
                 sink: Sink, on_gone: Callable[[Peer], None], heard: Callable[[], bool] | None = None,
                 fast_send: bool = True) -> None:
        self.downlink = Downlink()
        self.gate: UplinkGate | None = None
        self._heard = heard
        self.pc = RTCPeerConnection(configuration)
        self._host_candidates = host_candidates
        self._sink = sink
        self._on_gone = on_gone
        self._fast_send = fast_send
        self._transceiver: RTCRtpTransceiver | None = None
        self._answer = ""
        self._closed = False
        self._deadline: asyncio.TimerHandle | None = None

        @self.pc.on("connectionstatechange")
        def _state() -> None:
            state = self.pc.connectionState
            if state == "connected" and self._transceiver is not None:
                self.downlink.connected(self._transceiver, self._answer, allow_fast=self._fast_send)
            elif state in ("failed", "closed") and not self._closed:
                self._on_gone(self)

    async def answer(self, sdp: str) -> str:
        transceiver = self.pc.addTransceiver(self.downlink.track, direction="sendrecv")
        capabilities = RTCRtpReceiver.getCapabilities("audio")
        opus = [c for c in (capabilities.codecs if capabilities else []) if c.mimeType.lower() == "audio/opus"]
        transceiver.setCodecPreferences(opus)
        tap.install(transceiver.receiver, self._sink)
        if self._host_candidates is not None:
            ice.offer_only(self.pc, self._host_candidates)
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as e:
            raise OfferError("the offer could not be applied") from e
        # Exactly our one audio transceiver: any other m-line would get aiortc's own
        # receive path, decoding into a queue nobody reads.
        if transceiver.mid is None or len(self.pc.getTransceivers()) != 1:
            raise OfferError("the offer must carry exactly one audio track")
        if self._heard is not None:
            self.gate = UplinkGate.install(transceiver, self._heard)
        try:
            answer = await self.pc.createAnswer()
            await self.pc.setLocalDescription(RTCSessionDescription(sdp=with_opus_fmtp(answer.sdp), type="answer"))
        except Exception as e:
            raise OfferError("no answer could be made (is Opus offered?)") from e
        self._answer = str(self.pc.localDescription.sdp)
        self._transceiver = transceiver
        if self.pc.connectionState == "connected":
            self.downlink.connected(transceiver, self._answer, allow_fast=self._fast_send)
        else:
            # A connection that never connects (no candidate pair works) is given up, so
            # that nothing is kept, and counted, for a client that cannot be reached.
            self._deadline = asyncio.get_running_loop().call_later(CONNECT_TIMEOUT_S, self._never_connected)
        return self._answer

    def _never_connected(self) -> None:
        if not self._closed and self.pc.connectionState != "connected":
            self._on_gone(self)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._deadline is not None:
            self._deadline.cancel()
        self.downlink.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.pc.close(), timeout=5)

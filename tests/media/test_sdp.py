"""The SDP details the media layer writes and reads; pure functions, no network."""

from __future__ import annotations

import struct

from server.media.downlink import AnsweredAudio
from server.media.ice import candidate_addresses, configuration
from server.media.peer import OPUS_FMTP, with_opus_fmtp

ANSWER = "\r\n".join([
    "v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "a=group:BUNDLE 0",
    "m=audio 40000 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 127.0.0.1",
    "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host", "a=end-of-candidates",
    "a=sendrecv", "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level", "a=mid:0", "a=rtcp-mux",
    "a=rtpmap:111 opus/48000/2", "",
])


def test_the_answer_asks_for_opus_fec_and_dtx() -> None:
    sdp = with_opus_fmtp(ANSWER)
    assert f"a=rtpmap:111 opus/48000/2\r\na=fmtp:111 {OPUS_FMTP}\r\n" in sdp
    merged = with_opus_fmtp(sdp.replace(OPUS_FMTP, "minptime=10;stereo=0"))
    assert "a=fmtp:111 minptime=10;stereo=0;useinbandfec=1;usedtx=1\r\n" in merged
    assert with_opus_fmtp(sdp) == sdp  # idempotent


def test_what_the_fast_path_reads_from_the_answer() -> None:
    audio = AnsweredAudio.parse(ANSWER)
    assert audio == AnsweredAudio(payload_type=111, mid="0", mid_ext_id=1)
    # RFC 8285 one-byte header extension: 0xBEDE, length in words, id|len-1, "0", padding.
    assert audio.extension() == struct.pack("!HH", 0xBEDE, 1) + bytes([0x10]) + b"0" + b"\0\0"
    assert AnsweredAudio.parse("v=0\r\n") is None


def test_candidates_and_ice_servers() -> None:
    assert candidate_addresses(ANSWER) == {"127.0.0.1"}
    assert configuration([]).iceServers == []  # never None: aiortc would add Google's STUN server
    cfg = configuration([{"urls": "turn:turn.example.org:3478", "username": "u", "credential": "c"}])
    assert cfg.iceServers is not None and cfg.iceServers[0].username == "u"

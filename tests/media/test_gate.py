"""Why the uplink gate still lets one packet in 50 through: SRTP must see the sequence."""

from __future__ import annotations

import os
import struct

from pylibsrtp import Policy, Session

from server.media.gate import PASS_EVERY


def rtp(seq: int) -> bytes:
    return struct.pack("!BBHII", 0x80, 111, seq & 0xFFFF, seq * 960 & 0xFFFFFFFF, 1234) + b"voice" * 10


def test_srtp_follows_a_sender_seen_one_packet_in_pass_every_across_the_sequence_wrap() -> None:
    key = os.urandom(30)
    tx = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
    rx = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND))
    seen = 0
    for seq in range(65536 + 5000):  # past the 16-bit wrap: the rollover counter must follow
        protected = tx.protect(rtp(seq))
        if seq % PASS_EVERY == 0:
            assert rx.unprotect(protected) == rtp(seq)
            seen += 1
    assert seen > 1400

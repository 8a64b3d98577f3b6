"""The mixer and a speaker's inbox on their own: no network, a hand-driven clock."""

from __future__ import annotations

import math

import numpy as np

from server.media.downlink import Outgoing
from server.media.inbox import MAX_BACKLOG_SAMPLES, SpeakerInbox
from server.media.mixer import FRAME_S, RoomMixer
from server.media.opus import FRAME_SAMPLES, OpusDecoder, OpusEncoder
from tests.media.peers import tone_level


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def tone_packets(freq: float, count: int) -> list[bytes]:
    enc = OpusEncoder(28000)
    out = []
    for i in range(count):
        n = np.arange(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES)
        pcm = (np.sin(2 * math.pi * freq * n / 48000) * 0.3 * 32767).astype(np.int16)
        pkt = enc.encode(pcm, i * FRAME_SAMPLES)
        assert pkt is not None
        out.append(bytes(pkt))
    return out


class Leg:
    """A listener's downlink that keeps what it is sent."""

    def __init__(self) -> None:
        self.got: list[Outgoing] = []

    def send(self, out: Outgoing) -> None:
        self.got.append(out)


def drain(leg: Leg) -> list[Outgoing]:
    got, leg.got = leg.got, []
    return got


def decoded(packets: list[Outgoing]) -> np.ndarray:
    dec = OpusDecoder()
    return np.concatenate([pcm for p in packets for pcm in dec.decode(p.payload)])


def room(clock: Clock, *people: str) -> tuple[RoomMixer, dict[str, Leg]]:
    mixer = RoomMixer(28000, now=clock)
    legs = {p: Leg() for p in people}
    for p, t in legs.items():
        mixer.add_leg(p, t)
    return mixer, legs


async def test_a_voice_is_mixed_the_moment_it_arrives_and_shared_by_its_listeners() -> None:
    clock = Clock()
    mixer, legs = room(clock, "ana", "ben", "cai")
    mixer.set_audible({"ana"})
    sink = mixer.sink("ana")
    got: dict[str, list[Outgoing]] = {p: [] for p in legs}
    for seq, payload in enumerate(tone_packets(440, 30)):
        clock.t += FRAME_S
        before = mixer.mixes
        sink(seq, payload)
        assert mixer.mixes == before + 1  # no waiting for a tick
        for p, t in legs.items():
            got[p] += drain(t)
    # Ben and Cai get the very same packet objects: one encode for both.
    assert all(x is y for x, y in zip(got["ben"], got["cai"], strict=True))
    assert mixer.encodes == mixer.mixes
    assert tone_level(decoded(got["ben"])[4800:], 440) > 0.2
    # Ana hears nobody: silence, and no encode spent on it.
    assert tone_level(decoded(got["ana"]), 440) < 0.001
    assert [p.pts for p in got["ana"]] == [p.pts for p in got["ben"]]
    mixer.close()


async def test_each_speaker_hears_the_others_but_not_themselves() -> None:
    clock = Clock()
    mixer, legs = room(clock, "ana", "ben", "cai")
    mixer.set_audible({"ana", "ben"})
    a, b = tone_packets(440, 40), tone_packets(880, 40)
    got: dict[str, list[Outgoing]] = {p: [] for p in legs}
    for seq in range(40):
        clock.t += FRAME_S
        mixer.sink("ana")(seq, a[seq])
        mixer.sink("ben")(seq, b[seq])  # the mix waits for both, then goes at once
        for p, t in legs.items():
            got[p] += drain(t)
    # One encode per distinct mix (everyone, all but Ana, all but Ben); the very first
    # mix went before Ben had ever sent, when Ana's "all but me" was silence.
    assert mixer.mixes == 40 and mixer.encodes == 3 * 40 - 1
    heard = {p: decoded(ps)[4800:] for p, ps in got.items()}
    assert tone_level(heard["cai"], 440) > 0.1 and tone_level(heard["cai"], 880) > 0.1
    assert tone_level(heard["ana"], 880) > 0.1 and tone_level(heard["ana"], 440) < 0.01
    assert tone_level(heard["ben"], 440) > 0.1 and tone_level(heard["ben"], 880) < 0.01
    mixer.close()


async def test_someone_who_may_not_be_heard_is_never_decoded() -> None:
    clock = Clock()
    mixer, _legs = room(clock, "ana", "cai")
    mixer.set_audible({"ana"})
    mixer.silence("ana")  # e.g. muted: at once, before the core is asked again
    for seq, payload in enumerate(tone_packets(440, 10)):
        clock.t += FRAME_S
        mixer.sink("ana")(seq, payload)
    assert mixer.speakers == frozenset() and mixer.mixes == 0 and mixer.encodes == 0
    mixer.close()


def test_the_inbox_drops_late_packets_and_never_queues_up() -> None:
    inbox = SpeakerInbox()
    packets = tone_packets(440, 10)
    assert inbox.push(5, packets[0], 0.0)
    assert not inbox.push(4, packets[1], 0.0)  # older than one already taken: late
    assert not inbox.push(5, packets[1], 0.0)  # a duplicate
    for seq in range(6, 14):
        inbox.push(seq, packets[seq - 5], 0.0)
    assert inbox.samples <= MAX_BACKLOG_SAMPLES
    taken = inbox.take()
    assert taken is not None and len(taken) == FRAME_SAMPLES
    wrapping = SpeakerInbox()
    assert wrapping.push(65535, packets[0], 0.0)
    assert wrapping.push(0, packets[1], 0.0)  # 16-bit wrap-around: 0 follows 65535

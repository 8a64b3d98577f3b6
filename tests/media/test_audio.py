"""Live audio through the real server with real aiortc peers (issue 8, contract §7).

Ana plays 440 Hz, Ben 880 Hz, the facilitator (when she speaks) 660 Hz; Cai only
listens. The spectrum of what each one receives shows whom the server forwards: only
those the core says may be heard, and never anyone's own voice.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from server.media.ice import candidate_addresses
from tests.integration.conftest import Running
from tests.media.conftest import MakePeer, hub_of
from tests.media.peers import AudioPeer, Recorder, hears, tone_level
from tests.support import Client

ROOM = "circle"
A_HZ, B_HZ, F_HZ = 440.0, 880.0, 660.0
QUIET = 0.01  # below this a tone is not there (a heard one is ~0.2)


def recent(rec: Recorder, frames: int = 15) -> np.ndarray:
    got = rec.frames[-frames:]
    return np.concatenate([pcm for _, pcm in got]) if len(got) == frames else np.zeros(0, dtype=np.int16)


async def until_heard(rec: Recorder, freq: float, without: float | None = None, timeout: float = 5.0) -> float:
    """Wait until the last 300 ms received carry ``freq`` (and not ``without``); when.

    Hearing is awaited rather than sampled once: the whole suite (server and every
    peer) shares one event loop, and a busy machine can break up a window of audio.
    Not hearing something is asserted over whole windows: a glitch makes no tone.
    """
    def ok() -> float | None:
        window = recent(rec)
        if not hears(window, freq) or (without is not None and tone_level(window, without) >= QUIET):
            return None
        return rec.frames[-1][0]
    return await rec.wait_for(ok, timeout)  # type: ignore[no-any-return]


async def until_gone(rec: Recorder, freq: float, timeout: float = 5.0) -> float:
    return await rec.wait_for(  # type: ignore[no-any-return]
        lambda: rec.frames[-1][0] if len(recent(rec, 5)) and tone_level(recent(rec, 5), freq) < QUIET else None,
        timeout)


async def circle(server: Running, *names: str) -> tuple[Client, list[Client]]:
    fac = await server.client(ROOM, "facilitator", "Fac")
    return fac, [await server.client(ROOM, "member", n) for n in names]


async def test_only_the_floor_holder_is_heard_and_the_floor_passes(media_server: Running, audio: MakePeer) -> None:
    fac, (ana, ben, cai) = await circle(media_server, "Ana", "Ben", "Cai")
    assert (await ana.call("hand.raise", {"room": ROOM}))["ok"]
    assert (await ben.call("hand.raise", {"room": ROOM}))["ok"]
    await fac.wait_event("hand.raised", lambda e: e["data"]["participant_id"] == "Ben")
    a = await audio(ana, ROOM, A_HZ)
    b = await audio(ben, ROOM, B_HZ)
    c = await audio(cai, ROOM)

    # Every candidate either side offered is on loopback: no packet leaves this machine.
    for peer in (a, b, c):
        assert candidate_addresses(peer.offer_sdp) == {"127.0.0.1"}
        assert candidate_addresses(peer.answer_sdp) == {"127.0.0.1"}
        assert "c=IN IP4 127.0.0.1" in peer.answer_sdp
        # The server asks each client for Opus FEC and DTX.
        assert "useinbandfec=1;usedtx=1" in peer.answer_sdp

    # ...and no STUN or TURN server is ever asked.
    for peer_ in hub_of(media_server).rooms[ROOM].peers.values():
        conn = peer_.pc.getTransceivers()[0].receiver.transport.transport.iceGatherer._connection
        assert conn.stun_server is None and conn.turn_server is None

    # Ana holds the floor: Cai and Ben hear her, not Ben; Ana does not hear herself.
    assert hub_of(media_server).rooms[ROOM].mixer.speakers == {"Ana"}
    await until_heard(c.recorder, A_HZ, without=B_HZ)
    assert tone_level(await c.recorder.collect(1.0), B_HZ) < QUIET
    await until_heard(b.recorder, A_HZ, without=B_HZ)
    own = await a.recorder.collect(0.5)
    assert tone_level(own, A_HZ) < QUIET and tone_level(own, B_HZ) < QUIET

    # Ana yields; Ben was next in the queue: within half a second Cai hears Ben only.
    assert (await ana.call("floor.yield", {"room": ROOM}))["ok"]
    yielded = time.perf_counter()
    switched = await c.recorder.wait_for(
        lambda: next((t for t, pcm in c.recorder.frames if t > yielded and hears(pcm, B_HZ)), None), timeout=2)
    assert switched - yielded < 0.5
    await until_gone(c.recorder, A_HZ, timeout=0.5)
    assert tone_level(await c.recorder.collect(1.0), A_HZ) < QUIET
    await until_heard(c.recorder, B_HZ, without=A_HZ)
    await until_heard(a.recorder, B_HZ, without=A_HZ)
    own = await b.recorder.collect(0.5)
    assert tone_level(own, B_HZ) < QUIET and tone_level(own, A_HZ) < QUIET

    # One encode per mix: the listeners share one; the holder's "minus me" is silence,
    # which is a cached packet, not an encode. Every listener got the fast send path.
    media = hub_of(media_server).rooms[ROOM]
    assert media.mixer.mixes > 100
    assert media.mixer.encodes <= media.mixer.mixes + 2
    assert all(p.downlink.fast for p in media.peers.values())


async def test_listeners_can_be_served_by_aiortcs_own_sender(media_server: Running, audio: MakePeer) -> None:
    # The path taken when the fast path cannot attach (a TURN-relayed listener, say).
    hub_of(media_server).fast_send = False
    _fac, (ana, cai) = await circle(media_server, "Ana", "Cai")
    assert (await ana.call("hand.raise", {"room": ROOM}))["ok"]
    await audio(ana, ROOM, A_HZ)
    c = await audio(cai, ROOM)
    await until_heard(c.recorder, A_HZ)
    assert not any(p.downlink.fast for p in hub_of(media_server).rooms[ROOM].peers.values())


async def test_a_muted_facilitator_is_not_heard(media_server: Running, audio: MakePeer) -> None:
    fac, (cai,) = await circle(media_server, "Cai")
    f = await audio(fac, ROOM, F_HZ)
    c = await audio(cai, ROOM)
    # A facilitator may be heard without holding the floor...
    await until_heard(c.recorder, F_HZ)
    assert tone_level(await f.recorder.collect(0.5), F_HZ) < QUIET

    # ...but not once muted: silenced the moment the event is committed.
    assert (await fac.call("participant.mute", {"room": ROOM, "participant": "Fac", "muted": True}))["ok"]
    muted = time.perf_counter()
    assert "Fac" not in hub_of(media_server).rooms[ROOM].mixer.speakers
    gone = await until_gone(c.recorder, F_HZ, timeout=1)
    assert gone - muted < 0.5
    heard = await c.recorder.collect(1.0)
    assert tone_level(heard, F_HZ) < QUIET
    assert "Fac" not in hub_of(media_server).rooms[ROOM].mixer.speakers

    assert (await fac.call("participant.mute", {"room": ROOM, "participant": "Fac", "muted": False}))["ok"]
    await until_heard(c.recorder, F_HZ)


async def test_floor_mode_forwards_no_one_without_the_floor_and_open_mode_everyone(
        media_server: Running, audio: MakePeer) -> None:
    fac, (ana, ben, cai) = await circle(media_server, "Ana", "Ben", "Cai")
    a = await audio(ana, ROOM, A_HZ)
    b = await audio(ben, ROOM, B_HZ)
    c = await audio(cai, ROOM)
    mixer = hub_of(media_server).rooms[ROOM].mixer
    # Nobody holds the floor: their packets are dropped at the tap, never decoded.
    await c.recorder.collect(0.5)  # everyone is connected and sending by now
    assert a.tone.onsets and b.tone.onsets
    heard = await c.recorder.collect(1.0)
    assert tone_level(heard, A_HZ) < QUIET and tone_level(heard, B_HZ) < QUIET
    assert mixer.speakers == frozenset() and mixer.encodes == 0
    # ...and most are dropped before aiortc even decrypts them (the uplink gate).
    peers = hub_of(media_server).rooms[ROOM].peers.values()
    assert all(p.gate is not None and p.gate.dropped > 20 for p in peers)
    # The receiver's statistics (what its RTCP reports tell the browser) still see every
    # packet: no loss is reported for what the gate dropped.
    for p in peers:
        streams = p.pc.getTransceivers()[0].receiver._RTCRtpReceiver__remote_streams
        assert streams and all(s.packets_lost <= 2 for s in streams.values())

    # Open audio: everyone may be heard; each hears the others, not themselves.
    assert (await fac.call("room.settings", {"room": ROOM, "audio": "open"}))["ok"]
    await until_heard(c.recorder, B_HZ)
    await until_heard(c.recorder, A_HZ)
    await until_heard(a.recorder, B_HZ)
    assert tone_level(await a.recorder.collect(1.0), A_HZ) < QUIET
    await until_heard(b.recorder, A_HZ)
    assert tone_level(await b.recorder.collect(1.0), B_HZ) < QUIET
    assert mixer.speakers == frozenset({"Ana", "Ben", "Cai"})

    # Back to the floor rule: silence again.
    assert (await fac.call("room.settings", {"room": ROOM, "audio": "floor"}))["ok"]
    await until_gone(c.recorder, A_HZ)
    await until_gone(c.recorder, B_HZ)
    assert mixer.speakers == frozenset()


async def test_leaving_and_removal_close_the_peer(media_server: Running, audio: MakePeer) -> None:
    fac, (ana, ben, cai) = await circle(media_server, "Ana", "Ben", "Cai")
    assert (await ana.call("hand.raise", {"room": ROOM}))["ok"]
    await audio(ana, ROOM, A_HZ)
    await audio(ben, ROOM, B_HZ)
    c = await audio(cai, ROOM)
    hub = hub_of(media_server)
    await until_heard(c.recorder, A_HZ)

    assert (await ana.call("leave", {"room": ROOM}))["ok"]
    await until_gone(c.recorder, A_HZ, timeout=1)
    await cai.wait_event("participant.left", lambda e: e["data"]["participant_id"] == "Ana")
    assert "Ana" not in hub.rooms[ROOM].peers

    assert (await fac.call("participant.remove", {"room": ROOM, "participant": "Ben"}))["ok"]
    await cai.wait_event("participant.left", lambda e: e["data"]["participant_id"] == "Ben")
    await c.recorder.wait_for(lambda: "Ben" not in hub.rooms[ROOM].peers)

    # rtc.close ends one's own audio and the room's media when nobody is left.
    assert (await cai.call("rtc.close", {"room": ROOM}))["ok"]
    assert ROOM not in hub.rooms


async def test_offers_that_cannot_be_answered(media_server: Running) -> None:
    _fac, (ana,) = await circle(media_server, "Ana")
    outsider = await media_server.client(ROOM, "member", "Out", join=False)
    peer = AudioPeer()
    try:
        ack = await peer.connect(outsider.call, ROOM)
        assert ack["error"]["code"] == "not_joined"
        ack = await ana.call("rtc.offer", {"room": ROOM, "sdp": "v=0 not sdp", "type": "offer"})
        assert ack["error"]["code"] == "invalid"
        ack = await ana.call("rtc.offer", {"room": ROOM, "sdp": peer.offer_sdp, "type": "answer"})
        assert ack["error"]["code"] == "invalid"
        assert ROOM not in hub_of(media_server).rooms
    finally:
        await peer.close()


async def test_a_connection_that_never_connects_is_dropped(media_server: Running,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 14: dead connections stayed, counted in circles_media_peers, for the meeting.
    from server.gateway import keys
    from server.media import peer as peer_module
    monkeypatch.setattr(peer_module, "CONNECT_TIMEOUT_S", 0.5)
    await media_server.client("dead-audio", "facilitator", "Fay")  # opens the room
    client = await media_server.client("dead-audio", "member", "Ana")
    silent = AudioPeer()
    try:
        # An offer whose answer the client never applies: no ICE check ever reaches the server.
        ack = await client.call("rtc.offer", {"room": "dead-audio", "sdp": await silent.make_offer(),
                                              "type": "offer"})
        assert ack["ok"]
        hub = hub_of(media_server)
        registry = media_server.app[keys.METRICS].registry
        assert registry.get_sample_value("circles_media_peers") == 1
        deadline = asyncio.get_running_loop().time() + 5
        while "dead-audio" in hub.rooms:  # nothing announces the give-up: poll it
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
        assert registry.get_sample_value("circles_media_peers") == 0
    finally:
        await silent.close()

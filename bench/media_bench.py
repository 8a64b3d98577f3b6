"""Media bench: listener legs per core, and the delay the server adds to a voice.

    .venv/bin/python -m bench.media_bench            # full run, a few minutes
    .venv/bin/python -m bench.media_bench --quick    # smaller, for a smoke test

Everything is real and on loopback: the Circles server (``create_app`` with its media
hub) runs in a process of its own; one speaker holds the floor and plays a tone;
listener peers (aiortc, in another process) join the room and receive the mix.

**CPU per listener leg.** The server process's CPU time (``/proc/PID/stat``, all
threads) per second of audio, at several listener counts. The slope is what one more
listener costs; ``1 / slope`` is how many listeners one core serves from one mix. The
server counts the packets it actually sent, so a server that falls behind cannot look
cheap. Three servers, same codec settings (Opus 28 kbit/s mono, 20 ms, FEC):

* ``fast``: as built: one encode per mix, packets framed and sent straight into each
  listener's SRTP session (``server/media/downlink.py``);
* ``rtpsender``: one encode per mix, each listener served by aiortc's ``RTCRtpSender``
  (pre-encoded ``av.Packet``, no re-encode): what the fast path replaces;
* ``naive``: the baseline: every listener's mix encoded for them alone.

Listeners are receive-only and, once connected, count RTP datagrams without
decrypting them, so one small client process can drive hundreds. A listener who also
sends costs the server their uplink as well; that is measured separately with
listeners that send Opus silence, 50 packets a second, and with DTX (one packet every
400 ms, what a browser sends while quiet once the answer allows DTX, as ours does).

**Added latency.** The speaker's tone switches on and off; a probe listener stamps
each onset with when it would be played with no buffering (decoded the moment its
packet lands) and subtracts the moment the sender handed that frame over. The same
probe connected straight to the sender, peer to peer, gives the path without the
server; the difference is what the server adds. For scale, the probe is also run P2P
through aiortc's default receive path, whose jitter buffer the server no longer uses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
from aiohttp import ClientSession, web
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from server.app import create_app
from server.config import Config, MediaConfig, RoomSpec
from server.gateway import keys
from server.media import ice, tap
from server.media.downlink import Outgoing
from server.media.hub import MediaHub
from server.media.mixer import RoomMixer
from server.media.opus import FRAME_SAMPLES, TIME_BASE, OpusDecoder, OpusEncoder, Pcm, silence_payload
from server.tokens import mint
from tests.media.peers import LOOPBACK, AudioPeer, ToneTrack
from tests.support import Client

SECRET = "media-bench-secret-0123456789abcdefghijklmnop"
ROOM = "bench"
TONE_HZ = 440.0
BITRATE = 28_000
BURST_S = 0.3  # tone on, then off, for this long: one onset every 0.6 s
MODES = ("fast", "rtpsender", "naive")


# -- the server, and the naive baseline --------------------------------------------------------

class NaiveMixer(RoomMixer):
    """Baseline: every listener's mix is encoded for them alone (one encode per leg)."""

    def __init__(self, bitrate: int) -> None:
        super().__init__(bitrate)
        self._own: dict[int, OpusEncoder] = {}
        self._zeros = np.zeros(FRAME_SAMPLES, dtype=np.int32)

    def _deliver(self, voices: dict[str, Pcm], total: np.ndarray | None, pts: int) -> None:
        for pid, leg in self._legs.items():
            own = voices.get(pid)
            mixed = self._zeros if total is None else (total - own if own is not None else total)
            encoder = self._own.get(id(leg))
            if encoder is None:
                encoder = self._own[id(leg)] = OpusEncoder(self._bitrate)
            packet = encoder.encode(np.clip(mixed, -32768, 32767).astype(np.int16), pts)
            self.encodes += 1
            if packet is not None:
                leg.send(Outgoing(bytes(packet), pts))


def serve(port: int, mode: str) -> None:
    config = Config(secret=SECRET, media=MediaConfig(host_candidates=LOOPBACK, opus_bitrate=BITRATE),
                    rooms=(RoomSpec(id=ROOM, settings={"max_participants": 1000}),),
                    moderation={"pipeline": ["rate_limit"]}, log_level="WARNING")
    app = create_app(config)
    hub = app[keys.DELIVERY].media
    assert isinstance(hub, MediaHub)
    hub.fast_send = mode != "rtpsender"
    if mode == "naive":
        hub.mixer_factory = NaiveMixer

    async def sent(request: web.Request) -> web.Response:
        rooms = list(hub.rooms.values())
        return web.json_response({
            "sent": sum(p.downlink.sent for r in rooms for p in r.peers.values()),
            "peers": sum(len(r.peers) for r in rooms),
            "mixes": sum(r.mixer.mixes for r in rooms), "encodes": sum(r.mixer.encodes for r in rooms)})

    app.router.add_get("/bench/sent", sent)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


# -- listeners (run in a process of their own) ------------------------------------------------

class SilenceTrack(MediaStreamTrack):
    """An uplink that costs the client no encode: pre-encoded Opus silence every 20 ms,
    or with ``dtx`` one packet every 400 ms, as a browser sends when it may use DTX
    (our answer asks for it) and its microphone is quiet or muted."""

    kind = "audio"

    def __init__(self, dtx: bool = False) -> None:
        super().__init__()
        self._payload = silence_payload(BITRATE)
        self._step = FRAME_SAMPLES * (20 if dtx else 1)
        self._pts = 0
        self._start: float | None = None

    async def recv(self) -> av.Packet:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        delay = self._start + self._pts / 48_000 - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        packet = av.Packet(self._payload)
        packet.pts = self._pts
        packet.time_base = TIME_BASE
        self._pts += self._step
        return packet


@dataclass
class Counter:
    packets: int = 0


def count_instead_of_decrypting(pc: RTCPeerConnection, counter: Counter) -> None:
    """Once connected, a bench listener counts RTP datagrams and passes on only STUN
    (consent checks must still be answered). Keeps the client process light."""
    conn = pc.getTransceivers()[0].receiver.transport.transport._connection
    for proto in conn._protocols:
        original = proto.datagram_received

        def received(data: bytes, addr: tuple[Any, ...], original: Any = original) -> None:
            if data and 128 <= data[0] < 192:  # RTP/RTCP (RFC 7983)
                counter.packets += 1
            else:
                original(data, addr)

        proto.datagram_received = received


async def listener(url: str, index: int, uplink: str, counter: Counter, tag: str) -> tuple[Client, RTCPeerConnection]:
    tok, _ = mint(SECRET, sub=f"{tag}{index}", name=f"L{index}", role="member", room=ROOM)
    client = Client(url, tok)
    await client.connect()
    await client.join(ROOM)
    pc = RTCPeerConnection(ice.configuration([]))
    connected = asyncio.Event()
    pc.on("connectionstatechange", lambda: connected.set() if pc.connectionState == "connected" else None)
    if uplink != "none":
        pc.addTransceiver(SilenceTrack(dtx=uplink == "dtx"), direction="sendrecv")
    else:
        pc.addTransceiver("audio", direction="recvonly")
    ice.offer_only(pc, LOOPBACK)
    await pc.setLocalDescription(await pc.createOffer())
    ack = await client.call("rtc.offer", {"room": ROOM, "sdp": pc.localDescription.sdp, "type": "offer"}, timeout=60)
    assert ack["ok"], ack
    await pc.setRemoteDescription(RTCSessionDescription(sdp=ack["sdp"], type="answer"))
    await asyncio.wait_for(connected.wait(), timeout=60)
    count_instead_of_decrypting(pc, counter)
    return client, pc


async def run_listeners(url: str, count: int, uplink: str, tag: str) -> None:
    counter = Counter()
    peers: list[tuple[Client, RTCPeerConnection]] = []
    for start in range(0, count, 10):
        batch = range(start, min(count, start + 10))
        peers += await asyncio.gather(*(listener(url, i, uplink, counter, tag) for i in batch))
    print(json.dumps({"ready": count}), flush=True)
    while True:
        print(json.dumps({"at": time.monotonic(), "packets": counter.packets}), flush=True)
        await asyncio.sleep(0.5)


# -- latency probe ----------------------------------------------------------------------------

@dataclass
class OnsetDetector:
    """Finds each tone onset in received audio: the first loud sample after 100 ms of
    quiet, stamped with when it would be played with no buffering (the packet's
    arrival plus the sample's place in it)."""

    threshold: int = 2000  # the tone arrives at about 7000; silence decodes to almost 0
    quiet_samples: int = 4800
    heard: list[float] = field(default_factory=list)
    _quiet_run: int = 0

    def on_pcm(self, arrived: float, pcm: Pcm) -> None:
        loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > self.threshold)
        if not len(loud):
            self._quiet_run += len(pcm)
            return
        if self._quiet_run + int(loud[0]) >= self.quiet_samples:
            self.heard.append(arrived + int(loud[0]) / 48_000)
        self._quiet_run = len(pcm) - 1 - int(loud[-1])


class Probe:
    """A listening peer. ``low_delay``: packets decoded as they land (our tap); else
    aiortc's default receive path (jitter buffer, decoder thread)."""

    def __init__(self, low_delay: bool = True) -> None:
        self.detector = OnsetDetector()
        self.pc = RTCPeerConnection(ice.configuration([]))
        self.transceiver = self.pc.addTransceiver(ToneTrack(TONE_HZ, amplitude=0.0), direction="sendrecv")
        ice.offer_only(self.pc, LOOPBACK)
        self._task: asyncio.Task[None] | None = None
        if low_delay:
            decoder = OpusDecoder()

            def sink(seq: int, payload: bytes) -> None:
                now = time.perf_counter()
                for pcm in decoder.decode(payload):
                    self.detector.on_pcm(now, pcm)

            tap.install(self.transceiver.receiver, sink)
        else:
            @self.pc.on("track")
            def _track(track: MediaStreamTrack) -> None:
                self._task = asyncio.ensure_future(self._read(track))

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, AudioFrame)
                now = time.perf_counter()
                self.detector.on_pcm(now, frame.to_ndarray().reshape(-1)[0::2].astype(np.int16))

    async def answer(self, offer: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return str(self.pc.localDescription.sdp)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await self.pc.close()


async def bursts(tone: ToneTrack, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        tone.playing = True
        await asyncio.sleep(BURST_S)
        tone.playing = False
        await asyncio.sleep(BURST_S)


def delays(onsets: list[float], heard: list[float]) -> list[float]:
    out = []
    for h in heard:
        before = [o for o in onsets if o <= h]
        if before:
            out.append(h - before[-1])
    return out


async def measure(tone: ToneTrack, probe: Probe, seconds: float) -> list[float]:
    await asyncio.sleep(1.0)  # connected and flowing
    tone.onsets.clear()
    probe.detector.heard.clear()
    await bursts(tone, seconds)
    await asyncio.sleep(0.3)
    return delays(tone.onsets, probe.detector.heard)


async def p2p_latency(seconds: float, low_delay: bool) -> list[float]:
    tone = ToneTrack(TONE_HZ, playing=False)
    sender = RTCPeerConnection(ice.configuration([]))
    sender.addTransceiver(tone, direction="sendrecv")
    ice.offer_only(sender, LOOPBACK)
    probe = Probe(low_delay)
    try:
        await sender.setLocalDescription(await sender.createOffer())
        answer = await probe.answer(str(sender.localDescription.sdp))
        await sender.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        return await measure(tone, probe, seconds)
    finally:
        await probe.close()
        await sender.close()


# -- orchestration ----------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Listeners:
    proc: asyncio.subprocess.Process
    count: int
    packets: int = 0
    reader: asyncio.Task[None] | None = None

    async def follow(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.packets = json.loads(line).get("packets", self.packets)


async def start_listeners(url: str, count: int, uplink: str, tag: str) -> Listeners:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.media_bench", "listeners", "--url", url, "--count", str(count),
        "--tag", tag, "--uplink", uplink, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout=300)
    if not line:
        raise RuntimeError("the listener process died")
    group = Listeners(proc, count)
    group.reader = asyncio.ensure_future(group.follow())
    return group


async def stop(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    await proc.wait()


@dataclass
class Window:
    listeners: int
    cpu: float  # server CPU seconds per second
    sent_pps: float  # packets the server sent per second, per listener
    got_pps: float  # packets listeners received per second, per listener


async def stats(http: ClientSession, url: str) -> dict[str, int]:
    async with http.get(f"{url}/bench/sent") as r:
        return await r.json()  # type: ignore[no-any-return]


async def window(http: ClientSession, url: str, pid: int, groups: list[Listeners], n: int,
                 seconds: float) -> Window:
    got0 = sum(g.packets for g in groups)
    s0, c0, t0 = await stats(http, url), cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    s1, c1, t1 = await stats(http, url), cpu_seconds(pid), time.monotonic()
    got1 = sum(g.packets for g in groups)
    dt = t1 - t0
    per = max(n, 1) * dt
    return Window(n, (c1 - c0) / dt, (s1["sent"] - s0["sent"]) / per if n else 0.0, (got1 - got0) / per if n else 0.0)


@dataclass
class Run:
    mode: str
    windows: list[Window] = field(default_factory=list)
    uplink: dict[str, Window] = field(default_factory=dict)  # kind -> window with that many senders
    latency: list[float] = field(default_factory=list)
    encodes_per_mix: float = 0.0

    def per_leg(self) -> float:
        """Server CPU seconds per second of audio for one more listener: the least-squares
        slope of CPU against listeners, counting a listener as the packets the server
        actually sent them (50 a second is one listener)."""
        xs = np.array([w.listeners * w.sent_pps / 50 for w in self.windows])
        ys = np.array([w.cpu for w in self.windows])
        return float(np.polyfit(xs, ys, 1)[0])


async def wait_healthy(http: ClientSession, url: str) -> None:
    for _ in range(400):
        with contextlib.suppress(Exception):
            async with http.get(f"{url}/healthz") as r:
                if r.status == 200:
                    return
        await asyncio.sleep(0.05)
    raise RuntimeError("the server did not start")


async def run_mode(mode: str, levels: list[int], seconds: float, latency_s: float, uplink: int) -> Run:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.media_bench", "serve", "--port", str(port), "--mode", mode)
    run = Run(mode)
    groups: list[Listeners] = []
    sio: list[Client] = []
    peers: list[AudioPeer | Probe] = []
    http = ClientSession()
    try:
        await wait_healthy(http, url)

        async def person(sub: str, role: str) -> Client:
            tok, _ = mint(SECRET, sub=sub, name=sub, role=role, room=ROOM)
            c = Client(url, tok)
            sio.append(c)
            await c.connect()
            await c.join(ROOM)
            return c

        fac = await person("fac", "facilitator")  # no audio: only the speaker is heard
        speaker = await person("speaker", "member")
        assert (await speaker.call("hand.raise", {"room": ROOM}))["ok"]
        await fac.wait_event("floor.granted")
        tone = ToneTrack(TONE_HZ, playing=False)
        talker = AudioPeer(tone)
        peers.append(talker)
        assert (await talker.connect(speaker.call, ROOM))["ok"]
        prober = await person("probe", "member")
        probe = Probe(low_delay=True)
        peers.append(probe)
        await probe.pc.setLocalDescription(await probe.pc.createOffer())
        ack = await prober.call("rtc.offer", {"room": ROOM, "sdp": probe.pc.localDescription.sdp, "type": "offer"})
        await probe.pc.setRemoteDescription(RTCSessionDescription(sdp=ack["sdp"], type="answer"))
        run.latency = await measure(tone, probe, latency_s)

        tone.playing = True  # a voice all the time from here on
        await asyncio.sleep(0.5)
        baseline_peers = (await stats(http, url))["peers"]
        for kind in ("continuous", "dtx") if uplink else ():
            # Listeners who also send, on an otherwise quiet server; what their downlink
            # costs is known from the levels below and taken off in ``report``.
            group = await start_listeners(url, uplink, kind, f"{mode}{kind}-")
            await asyncio.sleep(1.0)
            run.uplink[kind] = await window(http, url, server.pid, [group], uplink, seconds)
            print(f"  {mode:9s} {uplink:4d} listeners sending ({kind}): server {run.uplink[kind].cpu * 100:5.1f} % "
                  f"of a core", flush=True)
            await stop(group.proc)
            for _ in range(150):  # their peers are closed as their sockets go
                if (await stats(http, url))["peers"] <= baseline_peers:
                    break
                await asyncio.sleep(0.2)
        have = 0
        for level in levels:
            if level > have:
                groups.append(await start_listeners(url, level - have, "none", f"{mode}{have}-"))
                have = level
                await asyncio.sleep(1.0)
            w = await window(http, url, server.pid, groups, level, seconds)
            run.windows.append(w)
            print(f"  {mode:9s} {level:4d} listeners: server {w.cpu * 100:5.1f} % of a core; per listener "
                  f"{w.sent_pps:4.1f} packets/s sent, {w.got_pps:4.1f} received", flush=True)
        s = await stats(http, url)
        run.encodes_per_mix = s["encodes"] / max(1, s["mixes"])
    finally:
        for g in groups:
            if g.reader is not None:
                g.reader.cancel()
            with contextlib.suppress(Exception):
                await stop(g.proc)
        for p in peers:
            with contextlib.suppress(Exception):
                await p.close()
        for c in sio:
            with contextlib.suppress(Exception):
                await c.close()
        await http.close()
        await stop(server)
    return run


def ms(xs: list[float], q: float) -> float:
    return float(np.percentile(np.array(xs) * 1000, q)) if xs else float("nan")


async def orchestrate(quick: bool) -> None:
    seconds = 3.0 if quick else 5.0
    latency_s = 4.0 if quick else 12.0
    levels = {
        "fast": [0, 100, 200] if quick else [0, 100, 200, 300],
        "rtpsender": [0, 50, 100] if quick else [0, 100, 200],
        "naive": [0, 20, 40] if quick else [0, 25, 50],
    }
    print(f"media bench: {os.cpu_count()} CPUs; Opus {BITRATE} bit/s mono, 20 ms, FEC; loopback", flush=True)
    print("latency, peer to peer (no server):", flush=True)
    p2p = await p2p_latency(latency_s, low_delay=True)
    p2p_default = await p2p_latency(latency_s, low_delay=False)
    print(f"  probe decoding on arrival: median {ms(p2p, 50):.1f} ms; "
          f"through aiortc's default receive path: median {ms(p2p_default, 50):.1f} ms", flush=True)
    runs = {}
    for mode in MODES:
        runs[mode] = await run_mode(mode, levels[mode], seconds, latency_s,
                                    uplink=(50 if quick else 100) if mode == "fast" else 0)

    base = statistics.median(p2p)
    fast = runs["fast"]
    added = [x - base for x in fast.latency]
    print()
    print("RESULTS")
    print(f"  server-added one-way delay: median {ms(added, 50):.1f} ms, p95 {ms(added, 95):.1f} ms, "
          f"max {ms(added, 100):.1f} ms (n={len(added)}: via server {ms(fast.latency, 50):.1f} ms "
          f"minus P2P {base * 1000:.1f} ms, medians)")
    print(f"  for scale, aiortc's default receive path adds {ms(p2p_default, 50) - base * 1000:.1f} ms (P2P)")
    for run in runs.values():
        leg = run.per_leg()
        print(f"  {run.mode:9s}: {leg * 1000:5.2f} ms CPU per listener per second of audio -> "
              f"{1 / leg if leg > 0 else float('inf'):5.0f} listener legs per core; "
              f"{run.encodes_per_mix:.2f} encodes per mix at the last level; "
              f"speaker+probe alone {run.windows[0].cpu * 100:.1f} % of a core")
    for kind, w in fast.uplink.items():
        n = w.listeners
        extra = (w.cpu - fast.windows[0].cpu - n * fast.per_leg() * w.sent_pps / 50) / n
        both = fast.per_leg() + extra
        what = "50 packets/s" if kind == "continuous" else "DTX, 2.5 packets/s"
        print(f"  a listener who also sends ({what}) costs {extra * 1000:.2f} ms/s more "
              f"-> {1 / both:.0f} two-way participants per core")
    for mode in ("rtpsender", "naive"):
        print(f"  per-listener cost, {mode} / fast: {runs[mode].per_leg() / fast.per_leg():.1f}x")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="media_bench")
    sub = ap.add_subparsers(dest="cmd")
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--mode", choices=MODES, default="fast")
    lis = sub.add_parser("listeners")
    lis.add_argument("--url", required=True)
    lis.add_argument("--count", type=int, required=True)
    lis.add_argument("--tag", default="l")
    lis.add_argument("--uplink", choices=("none", "continuous", "dtx"), default="none")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.cmd == "serve":
        serve(args.port, args.mode)
    elif args.cmd == "listeners":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_listeners(args.url, args.count, args.uplink, args.tag))
    else:
        asyncio.run(orchestrate(args.quick))


if __name__ == "__main__":
    main()

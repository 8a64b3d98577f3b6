"""Real audio between two real browsers, run inside a private network namespace.

``tests/e2e/test_real_audio.py`` starts this script with ``unshare -n``: the namespace has
only a loopback interface, so whatever Chromium gathers and sends stays on 127.0.0.1.
Inside, it brings ``lo`` up, serves Circles (media candidates 127.0.0.1), and opens a
facilitator and a member, each in its own Chromium whose fake microphone plays a pulsed
tone from a WAV file (440 Hz for the facilitator, 880 Hz for the member; pulsed, since
Chromium's noise suppression fades a steady tone). Each page measures what it receives
with an AnalyserNode on the remote stream. It prints one JSON object with the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

from aiohttp import web
from playwright.async_api import Page, async_playwright, expect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server.app import create_app  # noqa: E402
from server.config import Config, MediaConfig  # noqa: E402
from tests.support import ADMIN_KEY, SECRET, token  # noqa: E402

CHROMIUM = os.environ.get("CIRCLES_CHROMIUM", "/usr/bin/chromium")
ROOM = "real-audio"
RATE = 48000

# Energy at `freq` (dB) minus the median of the spectrum: the tone stands out by this much.
LEVEL_JS = """async ([freq]) => {
  const el = document.getElementById("remote-audio");
  if (!el || !el.srcObject) return null;
  if (!window.__an) {
    const ac = new AudioContext();
    await ac.resume();
    const src = ac.createMediaStreamSource(el.srcObject);
    const an = ac.createAnalyser();
    an.fftSize = 8192;
    src.connect(an);
    window.__an = an; window.__ac = ac;
  }
  const an = window.__an, ac = window.__ac;
  const data = new Float32Array(an.frequencyBinCount);
  let best = -Infinity;
  for (let i = 0; i < 6; i++) {  // a pulsed tone: take the loudest of a few looks
    an.getFloatFrequencyData(data);
    const bin = Math.round(freq / (ac.sampleRate / an.fftSize));
    const peak = Math.max(data[bin - 1], data[bin], data[bin + 1]);
    const sorted = Array.from(data).sort((a, b) => a - b);
    best = Math.max(best, peak - sorted[sorted.length >> 1]);
    await new Promise((r) => setTimeout(r, 60));
  }
  return best;
}"""


# Every microphone track the page ever gets, to see whether it is still held.
TRACK_MICROPHONES = """(() => {
  const md = navigator.mediaDevices;
  const get = md.getUserMedia.bind(md);
  window.__mics = [];
  md.getUserMedia = async (c) => { const s = await get(c); window.__mics.push(...s.getAudioTracks()); return s; };
})();"""
LIVE_MICS_JS = "() => window.__mics.filter((t) => t.readyState === 'live').length"
# Every RTCPeerConnection the page makes, for its receive statistics.
TRACK_PEERS = """(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  const Tracked = function (config) { const pc = new Native(config); window.__pcs.push(pc); return pc; };
  Tracked.prototype = Native.prototype;
  window.RTCPeerConnection = Tracked;
})();"""
# A 3G-like path for the second half of the run (this kernel has no netem, so it is built
# from three real parts):
# - delay: Chromium's own WebRTC network emulation (DevTools Network.emulateNetworkConditions,
#   set before the page makes its peer connection) holds each packet LATENCY_MS on the way
#   out and on the way in: about 150 ms round trip, read back from the ICE candidate pair;
# - loss: nftables drops LOSS_PERCENT of UDP in the kernel, both ways (every packet of the
#   namespace passes the input hook once);
# - jitter: loopback is shaped to SHAPED_RATE by a token bucket (tbf) and bursty cross
#   traffic queues in front of the audio for 0 to ~70 ms at random.
LATENCY_MS = 75
LOSS_PERCENT = 3
SHAPED_RATE = "4mbit"
# Each side's view of its live connection: round trip on the ICE pair, and what it received.
PATH_JS = """async () => {
  const pc = window.__pcs.filter((p) => p.connectionState === "connected").pop();
  if (!pc) return null;
  const out = {};
  for (const r of (await pc.getStats()).values()) {
    if (r.type === "candidate-pair" && r.nominated) out.rtt = r.currentRoundTripTime;
    if (r.type === "inbound-rtp" && r.kind === "audio") {
      Object.assign(out, { received: r.packetsReceived, lost: r.packetsLost, fec: r.fecPacketsReceived || 0,
        fecDiscarded: r.fecPacketsDiscarded || 0, concealed: r.concealedSamples,
        samples: r.totalSamplesReceived, jitter: r.jitter,
        buffer: r.jitterBufferDelay, emitted: r.jitterBufferEmittedCount });
    }
  }
  return out;
}"""


def nft(*args: str) -> None:
    subprocess.run(["nft", *args], check=True)


class WeakPath:
    """Loss and jitter on the namespace's loopback (the delay is set per page, see above)."""

    def __init__(self) -> None:
        self._sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sink.bind(("127.0.0.1", 0))
        self._sink.setblocking(False)
        self._src = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._src.setblocking(False)
        self._task: asyncio.Task[None] | None = None

    def _shape(self, on: bool) -> None:
        if not on:
            nft("delete", "table", "inet", "weak")
            subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], check=True)
            return
        subprocess.run(["ip", "link", "set", "lo", "mtu", "1500"], check=True)  # tbf's bucket holds a packet
        subprocess.run(["tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate", SHAPED_RATE,
                        "burst", "4kb", "latency", "300ms"], check=True)
        nft("add", "table", "inet", "weak")
        nft("add", "chain", "inet", "weak", "input", "{ type filter hook input priority 0; }")
        nft("add", "rule", "inet", "weak", "input", "meta", "l4proto", "udp", "udp", "dport", "!=",
            str(self._sink.getsockname()[1]), "numgen", "random", "mod", "100", "<", str(LOSS_PERCENT), "drop")

    async def __aenter__(self) -> WeakPath:
        self._shape(True)
        loop = asyncio.get_running_loop()
        loop.add_reader(self._sink.fileno(), self._drain)
        self._task = loop.create_task(self._cross_traffic())
        return self

    def _drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while True:
                self._sink.recv(2048)

    async def _cross_traffic(self) -> None:
        rnd = random.Random(14)
        to = self._sink.getsockname()
        while True:
            for _ in range(rnd.randint(0, 30)):  # up to 36 KB at once: ~70 ms of queue at 4 Mbit/s
                with contextlib.suppress(BlockingIOError):
                    self._src.sendto(b"x" * 1200, to)
            await asyncio.sleep(rnd.uniform(0.02, 0.15))

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
        asyncio.get_running_loop().remove_reader(self._sink.fileno())
        self._shape(False)


async def slow_path(page: Page) -> None:
    """This page's WebRTC packets wait LATENCY_MS each way (for connections made from now)."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": LATENCY_MS, "downloadThroughput": -1, "uploadThroughput": -1})


def path_figures(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    received = after["received"] - before["received"]
    lost = after["lost"] - before["lost"]
    emitted = max(1, after["emitted"] - before["emitted"])
    return {"rtt_ms": round(1000 * after["rtt"]), "received": received, "lost": lost,
            "loss_pct": round(100 * lost / max(1, received + lost), 1), "fec": after["fec"] - before["fec"],
            "fec_discarded": after["fecDiscarded"] - before["fecDiscarded"],
            "concealed_pct": round(100 * (after["concealed"] - before["concealed"])
                                   / max(1, after["samples"] - before["samples"]), 1),
            "jitter_ms": round(1000 * after["jitter"], 1),
            "jitter_buffer_ms": round(1000 * (after["buffer"] - before["buffer"]) / emitted)}


def pulsed_tone(path: Path, freq: float, seconds: float = 20.0) -> None:
    frames = bytearray()
    for n in range(int(RATE * seconds)):
        on = (n // (RATE // 5)) % 2 == 0  # 200 ms on, 200 ms off
        v = 0.5 * math.sin(2 * math.pi * freq * n / RATE) if on else 0.0
        frames += struct.pack("<h", int(v * 32767))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))


async def heard(page: Page, freq: float, timeout: float, need_db: float = 20.0) -> float | None:
    """Seconds until ``page`` receives ``freq`` clearly, or None within ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        level = await page.evaluate(LEVEL_JS, [freq])
        if level is not None and level >= need_db:
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    return None


async def quiet_for(page: Page, freq: float, seconds: float, need_db: float = 20.0) -> float:
    """The loudest ``freq`` ``page`` received over ``seconds`` (dB over the median)."""
    loudest = -1e9
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        level = await page.evaluate(LEVEL_JS, [freq])
        if level is not None:
            loudest = max(loudest, level)
        await asyncio.sleep(0.05)
    return loudest


def bring_loopback_up() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


async def main() -> int:
    bring_loopback_up()
    tmp = Path(tempfile.mkdtemp(prefix="circles-audio-"))
    low, high = tmp / "fac-440.wav", tmp / "member-880.wav"
    pulsed_tone(low, 440)
    pulsed_tone(high, 880)
    app = create_app(Config(secret=SECRET, admin_key=ADMIN_KEY, media=MediaConfig(host_candidates=("127.0.0.1",)),
                            moderation={"pipeline": []}))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    out: dict[str, Any] = {}
    async with async_playwright() as pw:
        browsers = []

        async def open_page(role: str, name: str, tone: Path) -> Page:
            b = await pw.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-background-networking",
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={tone}", "--allow-loopback-in-peer-connection",
                "--autoplay-policy=no-user-gesture-required"])
            browsers.append(b)
            context = await b.new_context(viewport={"width": 390, "height": 844})
            await context.add_init_script(TRACK_MICROPHONES)
            await context.add_init_script(TRACK_PEERS)
            page = await context.new_page()
            await page.goto(f"{base}/#room={ROOM}&token={token(ROOM, role, name=name)}")
            await expect(page.get_by_role("region", name="Chat")).to_be_visible(timeout=15000)
            return page

        try:
            fac = await open_page("facilitator", "Fay", low)
            member = await open_page("member", "Ana", high)
            status = member.locator("#audio-status")
            await expect(status).to_contain_text("Audio is on", timeout=15000)
            await expect(fac.locator("#audio-status")).to_contain_text("Audio is on", timeout=15000)
            # The facilitator (staff: always heard) turns the microphone on.
            clicked = time.monotonic()
            await fac.get_by_role("button", name="Turn on microphone").click()
            await expect(fac.locator("#audio-status")).to_contain_text("microphone is live", timeout=10000)
            t = await heard(member, 440, 15)
            out["fac_to_member_s"] = None if t is None else round(time.monotonic() - clicked, 2)
            # The member turns theirs on without the floor: nothing of them is captured
            # (the track is released), and the facilitator hears nothing of 880 Hz.
            await member.get_by_role("button", name="Turn on microphone").click()
            await expect(status).to_contain_text("goes live when you have the floor", timeout=10000)
            out["member_without_floor_db"] = round(await quiet_for(fac, 880, 3.0), 1)
            out["member_mics_held_without_floor"] = await member.evaluate(LIVE_MICS_JS)
            # Given the floor: the microphone is acquired again, and heard.
            granted = time.monotonic()
            await fac.locator("#participants li", has_text="Ana").get_by_role("button", name="Give floor: Ana").click()
            await expect(status).to_contain_text("microphone is live", timeout=10000)
            out["reacquire_to_live_s"] = round(time.monotonic() - granted, 2)
            t = await heard(fac, 880, 15)
            out["member_with_floor_heard_s"] = None if t is None else round(time.monotonic() - granted, 2)
            out["member_mics_held_with_floor"] = await member.evaluate(LIVE_MICS_JS)

            # A 3G-like path (see WeakPath): both pages load again, so their new peer
            # connections take the delay; the circle goes on as before.
            await member.get_by_role("button", name="Finish sharing").click()
            await expect(status).to_contain_text("goes live when you have the floor", timeout=10000)
            async with WeakPath():
                for page in (fac, member):
                    await slow_path(page)
                    await page.reload()
                for page in (fac, member):
                    await expect(page.locator("#audio-status")).to_contain_text("Audio is on", timeout=20000)
                mic = fac.get_by_role("button", name="Turn on microphone")
                if await mic.count():
                    await mic.click()
                await expect(fac.locator("#audio-status")).to_contain_text("microphone is live", timeout=10000)
                t = await heard(member, 440, 15)
                out["weak_fac_heard"] = t is not None
                before = await member.evaluate(PATH_JS)
                out["weak_heard_db"] = round(await quiet_for(member, 440, 8.0), 1)
                await fac.get_by_label("Message").fill("still with you")
                sent = time.monotonic()
                await fac.get_by_role("button", name="Send", exact=True).click()
                await expect(member.get_by_role("region", name="Chat")).to_contain_text("still with you",
                                                                                       timeout=10000)
                out["weak_chat_s"] = round(time.monotonic() - sent, 2)
                granted = time.monotonic()
                await fac.get_by_role("button", name="Give floor: Ana").click()
                mic = member.get_by_role("button", name="Turn on microphone")
                if await mic.count():
                    await mic.click()
                await expect(status).to_contain_text("microphone is live", timeout=10000)
                t = await heard(fac, 880, 15)
                out["weak_floor_heard_s"] = None if t is None else round(time.monotonic() - granted, 2)
                after = await member.evaluate(PATH_JS)
                if before and after:
                    out["weak_path"] = path_figures(before, after)
        finally:
            for b in browsers:
                await b.close()
            await runner.cleanup()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

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
import json
import math
import os
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
# The receive side of the page's live audio connection: packets, losses, concealment, FEC.
INBOUND_JS = """async () => {
  const pc = window.__pcs.filter((p) => p.connectionState === "connected").pop();
  if (!pc) return null;
  for (const r of (await pc.getStats()).values()) {
    if (r.type === "inbound-rtp" && r.kind === "audio") {
      return { received: r.packetsReceived, lost: r.packetsLost, fec: r.fecPacketsReceived || 0,
               concealed: r.concealedSamples, samples: r.totalSamplesReceived };
    }
  }
  return null;
}"""
# A lossy path: this share of UDP packets on loopback is dropped (both ways: every packet
# of the namespace passes the input hook once). nftables, since this kernel has no netem.
LOSS_PERCENT = 5


def lossy(on: bool) -> None:
    if on:
        subprocess.run(["nft", "add", "table", "inet", "lossy"], check=True)
        subprocess.run(["nft", "add", "chain", "inet", "lossy", "input",
                        "{ type filter hook input priority 0; }"], check=True)
        subprocess.run(["nft", "add", "rule", "inet", "lossy", "input", "meta", "l4proto", "udp",
                        "numgen", "random", "mod", "100", "<", str(LOSS_PERCENT), "drop"], check=True)
    else:
        subprocess.run(["nft", "delete", "table", "inet", "lossy"], check=True)


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

            # A lossy path: the member keeps the floor and talks; the facilitator keeps
            # hearing, chat and the floor keep working.
            before = await fac.evaluate(INBOUND_JS)
            lossy(True)
            try:
                out["lossy_heard_db"] = round(await quiet_for(fac, 880, 4.0), 1)
                await fac.get_by_label("Message").fill("still with you")
                await fac.get_by_role("button", name="Send", exact=True).click()
                await expect(member.get_by_role("region", name="Chat")).to_contain_text("still with you",
                                                                                       timeout=10000)
                out["lossy_chat_ok"] = True
                await member.get_by_role("button", name="Finish sharing").click()
                await expect(member.locator("#audio-status")).to_contain_text("goes live when you have the floor",
                                                                              timeout=10000)
                out["lossy_floor_ok"] = True
                after = await fac.evaluate(INBOUND_JS)
            finally:
                lossy(False)
            if before and after:
                received = after["received"] - before["received"]
                lost = after["lost"] - before["lost"]
                samples = max(1, after["samples"] - before["samples"])
                out["lossy_packets"] = {"received": received, "lost": lost, "fec": after["fec"] - before["fec"],
                                        "loss_pct": round(100 * lost / max(1, received + lost), 1),
                                        "concealed_pct": round(100 * (after["concealed"] - before["concealed"])
                                                               / samples, 1)}
        finally:
            for b in browsers:
                await b.close()
            await runner.cleanup()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

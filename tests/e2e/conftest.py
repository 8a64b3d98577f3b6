"""The browser client in a real headless Chromium (Debian's), against a real server.

Each test gets its own browser and a server: in-process (pytest-aiohttp) for most, a
subprocess for the restart test. Tests ask for ``server`` before ``session`` so that the
browser closes first: a server shutting down under open websockets waits for them.

Only 127.0.0.1 is ever contacted: Chromium runs with background networking off, and
the pages load nothing from outside (the client has no CDN and no web fonts).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect

from server.app import create_app
from server.config import Config, MediaConfig, RoomSpec
from tests.support import ADMIN_KEY, SECRET, token

CHROMIUM = os.environ.get("CIRCLES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-background-networking",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
]
# WebRTC in these pages must send nothing beyond loopback, and Chromium cannot be limited
# to 127.0.0.1: it offers the machine's other addresses (behind mDNS names, which it
# announces on the network). So every page's RTCPeerConnection is made relay-only, and
# with no TURN server that gathers no candidate at all: the pages still signal
# (rtc.offer, its answer, rtc.restart) and nothing is sent. The audio itself is tested
# with real aiortc peers on 127.0.0.1 (tests/media, tests/cluster).
NO_ICE_CANDIDATES = """(() => {
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  const RelayOnly = function (config) { return new Native({ ...(config || {}), iceTransportPolicy: "relay" }); };
  RelayOnly.prototype = Native.prototype;
  window.RTCPeerConnection = RelayOnly;
})();"""
# The server offers loopback candidates only (it would offer every interface otherwise).
LOOPBACK_MEDIA = MediaConfig(host_candidates=("127.0.0.1",))
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
DOC_SHOTS = ROOT / "docs" / "screenshots"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
# Generous for a 2-core CI box running Chromium, the server and pytest at once; every
# wait returns as soon as its condition holds.
WAIT_MS = 10_000

expect.set_options(timeout=WAIT_MS)


def _require_chromium() -> None:
    if os.access(CHROMIUM, os.X_OK):
        return
    message = f"{CHROMIUM} is missing: run scripts/setup.sh --test (it installs Debian's chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Session:
    """One browser for a test, and the pages it opened (each in its own context)."""

    browser: Browser
    errors: list[str] = field(default_factory=list)

    async def open(self, base: str, room: str, role: str, name: str, *, phone: bool = False,
                   sub: str | None = None, locale: str = "en-US", tok: str | None = None,
                   wait_for_room: bool = True) -> Page:
        ctx = await self.browser.new_context(viewport=PHONE if phone else DESKTOP, locale=locale,
                                             device_scale_factor=1, reduced_motion="reduce")
        ctx.set_default_timeout(WAIT_MS)
        await ctx.add_init_script(NO_ICE_CANDIDATES)
        page = await ctx.new_page()
        page.on("pageerror", lambda e: self.errors.append(f"{name}: {e}"))
        tok = tok or token(room, role, name=name, sub=sub or name.lower())
        await page.goto(f"{base}/#room={room}&token={tok}")
        if wait_for_room:
            await expect(page.get_by_role("region", name="Chat")).to_be_visible()
        return page


@pytest.fixture
async def session() -> AsyncIterator[Session]:
    _require_chromium()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        s = Session(browser)
        try:
            yield s
        finally:
            await browser.close()
    assert not s.errors, f"uncaught errors in the page: {s.errors}"


@pytest.fixture
async def server(aiohttp_server: Any) -> str:
    """A Circles server in this process: default moderation, and an on-call room."""
    app = create_app(Config(secret=SECRET, admin_key=ADMIN_KEY, media=LOOPBACK_MEDIA,
                            rooms=(RoomSpec(id="oncall", kind="oncall", title="On-call room"),)))
    srv = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{srv.port}"


async def create_room(base: str, room: str, **settings: Any) -> None:
    """A room made through the admin API, with the given settings."""
    async with aiohttp.ClientSession() as http, http.post(
            base + "/api/rooms", json={"id": room, "settings": settings},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as r:
        assert r.status == 201, await r.text()


async def shoot(page: Page, name: str, *, docs: bool = False) -> Path:
    """Save a screenshot to artifacts/; with CIRCLES_UPDATE_SCREENSHOTS=1 also to docs/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    # From the top of the page, as a person arriving sees it; let the last render settle.
    await page.evaluate("window.scrollTo(0, 0)")
    await page.wait_for_timeout(150)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    if docs and os.environ.get("CIRCLES_UPDATE_SCREENSHOTS") == "1":
        DOC_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_SHOTS / f"{name}.png")
    return path


# -- a server in a subprocess, for the restart test ------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    port: int
    log: Path
    proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        env = {**os.environ, "CIRCLES_SECRET": SECRET}
        config = self.log.with_name("circles.toml")
        config.write_text('[media]\nhost_candidates = ["127.0.0.1"]\n')
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--config", str(config), cwd=ROOT, env=env, stdout=log, stderr=log)
        async with aiohttp.ClientSession() as http:
            for _ in range(150):
                if self.proc.returncode is not None:
                    raise RuntimeError(f"the server exited; see {self.log}")
                try:
                    async with http.get(self.url + "/healthz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the server did not start in time; see {self.log}")

    def terminate(self) -> None:
        """Ask the server to stop, as a deploy does (SIGTERM); it says goodbye to clients."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)

    async def stop(self, grace_s: float = 2.0) -> None:
        """Make sure the process is gone: SIGTERM, then SIGKILL after ``grace_s``."""
        if self.proc is None:
            return
        self.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), grace_s)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        self.proc = None


@pytest.fixture
async def server_process(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    sp = ServerProcess(port=free_port(), log=tmp_path / "server.log")
    try:
        yield sp
    finally:
        await sp.stop(grace_s=0.1)

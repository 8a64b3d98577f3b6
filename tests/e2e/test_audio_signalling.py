"""The page's audio signalling (issue 8): it offers on joining, and offers again when the
server says the room's audio moved to another worker (``rtc.restart``).

The pages gather no ICE candidates (see conftest), so no media flows here; what flows
between aiortc peers and the server is tested in tests/media and tests/cluster.
"""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import expect

from server.app import create_app
from server.config import Config
from server.core.model import Notice, Target
from server.gateway import keys
from tests.support import ADMIN_KEY, SECRET

from .conftest import LOOPBACK_MEDIA, Session


async def test_the_page_offers_again_when_its_audio_moves(aiohttp_server: Any, session: Session) -> None:
    app = create_app(Config(secret=SECRET, admin_key=ADMIN_KEY, media=LOOPBACK_MEDIA))
    delivery = app[keys.DELIVERY]
    offers: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    answer = delivery.media.offer

    async def offer(room: str, participant: str, sdp: str, type_: str) -> dict[str, Any]:
        offers.put_nowait((room, participant))
        return await answer(room, participant, sdp, type_)

    delivery.media.offer = offer  # type: ignore[method-assign]
    srv = await aiohttp_server(app, host="127.0.0.1")
    page = await session.open(f"http://127.0.0.1:{srv.port}", "circle", "facilitator", "Fac")

    # Joining starts audio without asking for the microphone.
    assert await asyncio.wait_for(offers.get(), 10) == ("circle", "fac")
    # Answered is not connected (this page gathers no candidate): it never claims audio
    # is on (issue 14), and once the connection has had its chance it says so and
    # tries again.
    status = page.locator("#audio-status")
    await expect(status).to_have_text("Connecting audio…")
    await expect(status).not_to_contain_text("Audio is on", timeout=1000)
    await expect(status).to_contain_text("couldn't connect", timeout=12_000)
    assert await asyncio.wait_for(offers.get(), 10) == ("circle", "fac")

    delivery.deliver_notice(Notice(event="rtc.restart", to=Target(kind="participant", room="circle",
                                                                   participant="fac"),
                                  data={"room": "circle", "reason": "moved"}))
    assert await asyncio.wait_for(offers.get(), 10) == ("circle", "fac")
    await expect(status).not_to_contain_text("Audio is on", timeout=1000)

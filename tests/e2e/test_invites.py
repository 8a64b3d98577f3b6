"""A group link in real browsers (issue 16): two people open the circle's link on their
phones, each picks the name the circle sees, waits in the lobby and is let in; after the
link is revoked it lets nobody in, and says so."""

from __future__ import annotations

import aiohttp
from playwright.async_api import Page, expect

from tests.support import ADMIN_KEY

from .conftest import PHONE, WAIT_MS, Session, create_room, shoot

ROOM = "group-circle"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


async def open_invite(session: Session, base: str, path: str, locale: str = "en-US") -> Page:
    ctx = await session.browser.new_context(viewport=PHONE, locale=locale, device_scale_factor=1,
                                            reduced_motion="reduce")
    ctx.set_default_timeout(WAIT_MS)
    page = await ctx.new_page()
    page.on("pageerror", lambda e: session.errors.append(f"invite page: {e}"))
    await page.goto(base + path)
    return page


async def test_two_people_join_through_a_group_link_and_a_revoked_one_admits_nobody(server: str,
                                                                                      session: Session) -> None:
    await create_room(server, ROOM)
    fac = await session.open(server, ROOM, "facilitator", "Meera")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server}/api/rooms/{ROOM}/invites", json={"max_uses": 10}, headers=ADMIN) as r:
            assert r.status == 201
            link = await r.json()
    lobby = fac.get_by_role("list", name="Waiting to join")
    for locale, name, ask, waiting in (
            ("en-US", "Asha from Ludhiana", "Ask to join", "Waiting for a facilitator to let you in"),
            ("pa-IN", "ਗੁਰਪ੍ਰੀਤ", "ਜੁੜਨ ਲਈ ਕਹੋ", "ਫੈਸਿਲੀਟੇਟਰ ਵੱਲੋਂ ਅੰਦਰ ਬੁਲਾਉਣ ਦੀ ਉਡੀਕ ਹੈ")):
        page = await open_invite(session, server, link["path"], locale)
        await expect(page.locator("#invite-title")).to_be_focused()
        await shoot(page, f"invite-{locale[:2]}")
        await page.locator("#invite-name").fill(name)
        await page.get_by_role("button", name=ask).click()
        await expect(page.get_by_role("heading", name=waiting)).to_be_visible()
        await lobby.get_by_role("listitem").filter(has_text=name).get_by_role("button", name="Admit").click()
        await expect(page.locator("#chat-log")).to_be_visible()
        await expect(fac.locator("#participants li", has_text=name)).to_be_visible()
        # The code is gone from the address bar: the page now holds its own link.
        assert "invite=" not in page.url and "token=" in page.url

    async with aiohttp.ClientSession() as http:
        async with http.delete(f"{server}/api/rooms/{ROOM}/invites/{link['id']}", headers=ADMIN) as r:
            assert r.status == 204
    late = await open_invite(session, server, link["path"], "hi-IN")
    await late.locator("#invite-name").fill("Ravi")
    await late.get_by_role("button", name="जुड़ने के लिए कहें").click()
    await expect(late.locator("#invite-status")).to_have_text(
        "यह निमंत्रण अब काम नहीं करता। जिसने भेजा है, उनसे नया माँगें।")
    await shoot(late, "invite-revoked-hi")
    await expect(lobby.get_by_role("listitem")).to_have_count(0)

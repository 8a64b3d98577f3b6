"""My attendance, in a real browser at 390 px (issue 19): a member opens it and sees the
meeting they are in, turns follow-up on, and erases their history after confirming."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from server.app import create_app
from server.attendance import AttendanceConfig
from server.config import Config
from tests.support import ADMIN_KEY, SECRET

from .conftest import LOOPBACK_MEDIA, SHOTS, Session, create_room

ROOM = "evening-circle"


async def test_a_member_opens_my_attendance_and_sees_their_meeting(aiohttp_server: Any, session: Session) -> None:
    app = create_app(Config(secret=SECRET, admin_key=ADMIN_KEY, media=LOOPBACK_MEDIA,
                            attendance=AttendanceConfig(enabled=True, rooms=(ROOM,))))
    srv = await aiohttp_server(app, host="127.0.0.1")
    base = f"http://127.0.0.1:{srv.port}"
    await create_room(base, ROOM)
    asha = await session.open(base, ROOM, "member", "Asha", phone=True)
    card = asha.get_by_role("region", name="My attendance")
    await card.get_by_role("button", name="Show my attendance").click()
    await expect(card.locator("#att-summary")).to_have_text("You came to 1 of the last 1 meetings.")
    await expect(card.locator("#att-list li")).to_have_count(1)
    await expect(card.locator("#att-list li")).to_contain_text("min")
    await expect(card).to_contain_text("never your name or your words")
    # Nothing spills sideways on a phone.
    width = await asha.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390
    SHOTS.mkdir(parents=True, exist_ok=True)
    await card.screenshot(path=str(SHOTS / "attendance-en.png"))

    follow = card.get_by_label("If I miss a few meetings in a row, let my centre know so they can check in with me")
    await follow.check()
    await expect(follow).to_be_checked()

    await card.get_by_role("button", name="Erase my attendance").click()
    dialog = asha.get_by_role("dialog", name="Erase your attendance?")
    await dialog.get_by_role("button", name="Erase").click()
    await expect(card.locator("#att-summary")).to_have_text("Nothing is recorded for you yet.")
    await expect(card.locator("#att-list li")).to_have_count(0)


async def test_my_attendance_fits_a_phone_in_hindi_and_punjabi(aiohttp_server: Any, session: Session) -> None:
    app = create_app(Config(secret=SECRET, admin_key=ADMIN_KEY, media=LOOPBACK_MEDIA,
                            attendance=AttendanceConfig(enabled=True, rooms=(ROOM,))))
    srv = await aiohttp_server(app, host="127.0.0.1")
    base = f"http://127.0.0.1:{srv.port}"
    await create_room(base, ROOM)
    words = {"hi-IN": ("मेरी हाज़िरी", "मेरी हाज़िरी देखें", "पिछली 1 मीटिंग में से आप 1 में आए।"),
             "pa-IN": ("ਮੇਰੀ ਹਾਜ਼ਰੀ", "ਮੇਰੀ ਹਾਜ਼ਰੀ ਵੇਖੋ", "ਪਿਛਲੀਆਂ 1 ਮੀਟਿੰਗਾਂ ਵਿੱਚੋਂ ਤੁਸੀਂ 1 ਵਿੱਚ ਆਏ।")}
    SHOTS.mkdir(parents=True, exist_ok=True)
    for i, (locale, (title, show, summary)) in enumerate(words.items()):
        page = await session.open(base, ROOM, "member", f"M{i}", phone=True, locale=locale, wait_for_room=False)
        card = page.get_by_role("region", name=title)
        await card.get_by_role("button", name=show).click()
        await expect(card.locator("#att-summary")).to_have_text(summary)
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390
        await card.screenshot(path=str(SHOTS / f"attendance-{locale[:2]}.png"))

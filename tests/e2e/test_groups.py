"""Small groups in a real browser (issue 17): a facilitator and four members; the circle
splits into two groups of two for a minute, each page moves to its group, which has its
own floor, and when the server's clock says time is up everyone is back in the circle
with the queue as it was. Screenshots at 390 px in English and Hindi."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from server.app import create_app
from server.clock import ManualClock
from server.config import Config
from tests.support import ADMIN_KEY, SECRET

from .conftest import LOOPBACK_MEDIA, SHOTS, Session, create_room, shoot

ROOM = "friday-circle"


@dataclass
class Clocked:
    url: str
    clock: ManualClock


@pytest.fixture
async def clocked(aiohttp_server: Any) -> AsyncIterator[Clocked]:
    """A server in this process whose clock the test moves (it starts at the real time,
    so the pages' own clocks agree with it until the test moves it)."""
    clock = ManualClock(start_ms=int(time.time() * 1000))
    app = create_app(Config(secret=SECRET, admin_key=ADMIN_KEY, media=LOOPBACK_MEDIA), clock=clock)
    srv = await aiohttp_server(app, host="127.0.0.1")
    yield Clocked(f"http://127.0.0.1:{srv.port}", clock)


async def raise_hand(page: Page, label: str = "Raise hand") -> None:
    await page.get_by_role("button", name=label).click()
    await expect(page.get_by_role("button", name=label)).to_be_hidden()


def group_room(page: Page) -> str:
    return re.search(r"room=([a-z0-9-]+)", page.url).group(1)  # type: ignore[union-attr]


async def test_a_circle_splits_into_groups_and_comes_back_with_its_queue(clocked: Clocked, session: Session) -> None:
    base = clocked.url
    await create_room(base, ROOM, share_seconds=300)
    fac = await session.open(base, ROOM, "facilitator", "Meera", phone=True)
    asha = await session.open(base, ROOM, "member", "Asha", phone=True, locale="hi-IN", wait_for_room=False)
    await expect(asha.get_by_role("region", name="चैट")).to_be_visible()
    ben = await session.open(base, ROOM, "member", "Ben", phone=True)
    chetan = await session.open(base, ROOM, "member", "Chetan")
    divya = await session.open(base, ROOM, "member", "Divya")
    # Before: Ben shares, Divya and then Asha wait (Chetan has not raised a hand).
    await raise_hand(ben)
    await raise_hand(divya)
    await raise_hand(asha, "हाथ उठाएँ")
    await expect(fac.locator("#floor-who")).to_have_text("Ben is sharing.")
    await expect(fac.locator("#queue .name")).to_have_text(["Divya", "Asha"])

    # The facilitator splits the circle evenly: two groups, one minute.
    tools = fac.get_by_role("group", name="Small groups")
    await tools.get_by_label("Number of groups").fill("2")
    await tools.get_by_label("Minutes").fill("1")
    # By hand, she would see everyone dealt as the server will deal them.
    await tools.get_by_text("Choose who goes where").click()
    await expect(tools.get_by_label("Group for Asha")).to_have_value("1")
    await expect(tools.get_by_label("Group for Ben")).to_have_value("2")
    await expect(tools.get_by_label("Group for Meera")).to_have_count(0)  # she keeps the circle's time
    SHOTS.mkdir(parents=True, exist_ok=True)
    await tools.screenshot(path=str(SHOTS / "groups-form-en.png"))
    await tools.get_by_text("Choose who goes where").click()
    await tools.get_by_role("button", name="Start small groups").click()

    # Every member's page moves to its group (sorted ids dealt in turn: Asha and Chetan, Ben and Divya).
    for page in (asha, ben, chetan, divya):
        await expect(page.locator("#group-banner")).to_be_visible()
        await expect(page.locator("#room")).to_be_visible()
    await expect(asha.locator("#group-banner-title")).to_have_text("छोटा समूह")
    await expect(ben.locator("#group-banner-title")).to_have_text("Small group")
    await expect(ben.locator("#group-banner-time")).to_have_text(re.compile(r"^(1 min left|Less than a minute left)$"))
    await expect(ben.locator("#group-banner-who")).to_have_text("With Divya")
    await expect(ben.locator("#room-title")).to_have_text("Friday circle")  # the circle's name, not the group's id
    one, two = group_room(asha), group_room(ben)
    assert one != two and one.startswith("group-") and two.startswith("group-")
    assert group_room(chetan) == one and group_room(divya) == two
    # In the circle, they are away in their groups, not lost; the facilitator sees the groups.
    await expect(fac.locator("#participants li", has_text="Asha")).to_contain_text("In group 1")
    await expect(fac.locator("#participants li", has_text="Ben")).to_contain_text("In group 2")
    await expect(fac.locator("#participants li", has_text="Ben")).not_to_contain_text("connection lost")
    await expect(fac.locator("#grp-list li")).to_have_text([re.compile("Group 1 · Asha, Chetan"),
                                                            re.compile("Group 2 · Ben, Divya")])
    await expect(fac.locator("#floor-who")).to_have_text("Nobody is sharing right now.")
    await expect(fac.locator("#queue .name")).to_have_text(["Ben", "Divya", "Asha"])

    # Each group has its own floor: Chetan shares in group one, Divya in group two.
    await raise_hand(chetan)
    await expect(chetan.locator("#floor-who")).to_have_text("You have the floor. Take your time.")
    await expect(asha.locator("#floor-who")).to_have_text(re.compile("Chetan"))
    await expect(ben.locator("#floor-who")).to_have_text("Nobody is sharing right now.")
    await raise_hand(divya)
    await expect(ben.locator("#floor-who")).to_have_text("Divya is sharing.")
    await expect(asha.locator("#floor-who")).to_have_text(re.compile("Chetan"))
    await expect(fac.locator("#floor-who")).to_have_text("Nobody is sharing right now.")
    await shoot(ben, "groups-member-en")
    await shoot(asha, "groups-member-hi")
    await tools.scroll_into_view_if_needed()
    await tools.screenshot(path=str(SHOTS / "groups-facilitator-en.png"))
    await fac.locator(".people").screenshot(path=str(SHOTS / "groups-facilitator-people-en.png"))
    await fac.locator("#lang").select_option("hi")
    await expect(fac.locator("#grp-end")).to_have_text("सबको वापस बुलाएँ")
    await fac.locator("#groups-tools").screenshot(path=str(SHOTS / "groups-facilitator-hi.png"))
    await fac.locator("#lang").select_option("en")

    # Keyboard: "Bring everyone back" is reached with Tab, and its focus is visible.
    await fac.locator("#grp-list button").last.focus()
    await fac.keyboard.press("Tab")
    await expect(fac.locator("#grp-end")).to_be_focused()
    assert await fac.locator("#grp-end").evaluate(
        "el => el.matches(':focus-visible') && getComputedStyle(el).outlineStyle !== 'none'")

    # Time up, by the server's clock: everyone back in the circle, the queue as before.
    await clocked.clock.advance(60_000)
    for page in (asha, ben, chetan, divya):
        await expect(page).to_have_url(re.compile(f"room={ROOM}"))
        await expect(page.locator("#room")).to_be_visible()
        await expect(page.locator("#group-banner")).to_be_hidden()
    await expect(fac.locator("#floor-who")).to_have_text("Ben is sharing.")
    await expect(fac.locator("#queue .name")).to_have_text(["Divya", "Asha"])
    await expect(ben.locator("#floor-who")).to_have_text("You have the floor. Take your time.")
    await expect(divya.locator("#my-place")).to_have_text("You are 1st in the queue — you're next")
    await expect(asha.locator("#my-place")).to_have_text("कतार में आप 2 नंबर पर हैं")
    await expect(fac.locator("#participants li", has_text="Asha")).not_to_contain_text("In group")
    await expect(fac.locator("#room-note")).to_have_text(re.compile("Everyone is back from the small groups"))
    await expect(ben.locator("#room-note")).to_have_text(re.compile("Everyone is back from the small groups"))
    await expect(fac.get_by_role("button", name="Start small groups")).to_be_visible()
    await shoot(asha, "groups-back-hi")
    await shoot(ben, "groups-back-en")
    # The groups' rooms are gone.
    async with aiohttp.ClientSession() as http, http.get(
            base + "/api/rooms", headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as r:
        assert {room["id"] for room in await r.json()} == {ROOM}

"""A SMART-style meeting in real browsers (issue 17): a facilitator and three members (one
reading Hindi on a phone, one Punjabi on a phone, one English). The facilitator starts the
meeting with a reader named; the welcome reading shows in each member's language with the
reader's name; the check-in round starts by itself when its part begins; the server's clock
moves the meeting on; the facilitator moves on with the keyboard; the free time opens the
room and, when it is over, the meeting ends and the agenda is back at its start. Screenshots
of the agenda and of a reading in Hindi at 390 px (artifacts/screenshots/)."""

from __future__ import annotations

import re
import time
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from server.app import create_app
from server.clock import ManualClock
from server.config import Config
from tests.support import ADMIN_KEY, SECRET

from .conftest import LOOPBACK_MEDIA, SHOTS, Session, create_room, shoot

ROOM = "smart-circle"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
MIN = 60_000


@pytest.fixture
async def meeting(aiohttp_server: Any) -> tuple[str, ManualClock]:
    """A server whose clock the test moves (from now, so that the pages' clocks agree)."""
    clock = ManualClock(int(time.time() * 1000))
    app = create_app(Config(secret=SECRET, admin_key=ADMIN_KEY, media=LOOPBACK_MEDIA), clock=clock)
    srv = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{srv.port}", clock


async def fits_a_phone(page: Page) -> None:
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width


async def test_a_smart_meeting_from_the_welcome_to_the_free_time(meeting: tuple[str, ManualClock],
                                                                session: Session) -> None:
    base, clock = meeting
    await create_room(base, ROOM, share_seconds=300)
    async with aiohttp.ClientSession() as http, \
            http.put(f"{base}/api/rooms/{ROOM}/format", json={"template": "smart"}, headers=ADMIN) as r:
        assert r.status == 200, await r.text()

    fac = await session.open(base, ROOM, "facilitator", "Meera")
    asha = await session.open(base, ROOM, "member", "Asha", phone=True, locale="hi-IN", wait_for_room=False)
    charan = await session.open(base, ROOM, "member", "Charan", phone=True, locale="pa-IN", wait_for_room=False)
    for page in (asha, charan):
        await expect(page.locator("#chat-log")).to_be_visible()
    ben = await session.open(base, ROOM, "member", "Ben", phone=True)

    # Before the start: the plan, its first part, and (for the facilitator only) the controls.
    plan = ben.get_by_role("region", name="Meeting plan")
    await expect(plan).to_contain_text("The meeting hasn't started yet.")
    await expect(plan).to_contain_text("First: Welcome and purpose")
    await expect(ben.get_by_role("button", name="Start the meeting")).to_be_hidden()
    await expect(asha.get_by_role("region", name="मीटिंग की रूपरेखा")).to_contain_text("पहले: स्वागत और उद्देश्य")
    controls = fac.get_by_role("region", name="Meeting plan")
    reader = controls.get_by_label("Who reads: Welcome and purpose")
    await expect(reader.locator("option")).to_have_count(5)  # "Not named" and the four people
    await reader.select_option(label="Ben")
    await controls.get_by_role("button", name="Start the meeting").click()

    # The welcome reading, in each member's own language, with who reads it.
    hindi = asha.get_by_role("region", name="स्वागत और उद्देश्य")
    await expect(hindi).to_contain_text("जो यहाँ कहा जाता है, वह यहीं रहता है।")
    await expect(hindi).to_contain_text("पढ़ रहे हैं: Ben")
    assert await hindi.locator("#reading-text").get_attribute("lang") == "hi"
    await expect(charan.get_by_role("region", name="ਸਵਾਗਤ ਅਤੇ ਮਕਸਦ")).to_contain_text(
        "ਜੋ ਇੱਥੇ ਕਿਹਾ ਜਾਂਦਾ ਹੈ, ਉਹ ਇੱਥੇ ਹੀ ਰਹਿੰਦਾ ਹੈ।")
    english = ben.get_by_role("region", name="Welcome and purpose")
    await expect(english).to_contain_text("What is said here stays here. Nothing is recorded.")
    await expect(english).to_contain_text("No advice unless someone asks for it.")
    # Ben reads: he holds the floor, untimed.
    await expect(ben.locator("#floor-who")).to_have_text("You have the floor. Take your time.")
    await expect(ben.locator("#floor-timer")).to_have_text("No time limit")
    agenda_hi = asha.get_by_role("region", name="मीटिंग की रूपरेखा")
    await expect(agenda_hi).to_contain_text("6 में से हिस्सा 1")
    await expect(agenda_hi.locator("#agenda-timer")).to_have_text(re.compile(r"^[45]:\d\d बाकी$"))
    await expect(agenda_hi).to_contain_text("आगे: चेक-इन राउंड")
    await fits_a_phone(asha)
    await shoot(asha, "format-reading-hi")
    await expect(controls.get_by_role("button", name="Next part")).to_be_visible()
    await shoot(fac, "format-facilitator-desktop")
    await asha.locator("#reading").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await asha.locator("#reading").screenshot(path=str(SHOTS / "format-reading-card-hi.png"))
    await agenda_hi.get_by_text("पूरी रूपरेखा").click()  # the whole plan, folded on a phone
    await expect(agenda_hi.locator("li[aria-current=step]")).to_contain_text("स्वागत और उद्देश्य")
    await shoot(asha, "format-agenda-hi")

    # Next part: the check-in round starts by itself, with everyone here, in join order.
    await controls.get_by_role("button", name="Next part").click()
    await expect(ben.locator("#round-info")).to_have_text("A round is going: 1 of 4")
    await expect(asha.locator("#round-info")).to_have_text("राउंड चल रहा है: 4 में से 1")
    await expect(ben.locator("#floor-who")).to_have_text("Meera is sharing.")
    await expect(ben.locator("#reading")).to_be_hidden()
    await expect(plan.locator("#agenda-now")).to_have_text("Check-in round")
    await expect(plan).to_contain_text("Next: Agenda: what shall we work on today?")
    await expect(plan.locator("#agenda-timer")).to_have_text(re.compile(r"^1[45]:\d\d left$"))
    await shoot(ben, "format-agenda-en")

    # The round's fifteen minutes pass: the server moves the meeting on by itself.
    await clock.advance(15 * MIN)
    for page, title in ((ben, "Agenda: what shall we work on today?"), (asha, "एजेंडा: आज हम किस पर काम करें?"),
                        (charan, "ਏਜੰਡਾ: ਅੱਜ ਅਸੀਂ ਕਿਸ ਉੱਤੇ ਕੰਮ ਕਰੀਏ?")):
        await expect(page.locator("#agenda-now")).to_have_text(title)
        await expect(page.locator("#round-info")).to_be_hidden()
    await expect(ben.locator("#chat-log")).to_contain_text("Now: Agenda: what shall we work on today?")

    # The facilitator moves on with the keyboard: "Next part" is reachable and shows its focus.
    await fac.locator("#agenda-now").click()
    for _ in range(12):
        await fac.keyboard.press("Tab")
        if await fac.evaluate("() => document.activeElement && document.activeElement.id") == "btn-fmt-next":
            break
    else:
        raise AssertionError("Next part is not reachable with Tab")
    outline = await fac.evaluate("() => getComputedStyle(document.activeElement).outlineStyle + ' ' + "
                                 "getComputedStyle(document.activeElement).outlineWidth")
    assert outline.startswith("solid") and not outline.endswith(" 0px"), outline
    await fac.keyboard.press("Enter")
    await expect(ben.locator("#agenda-now")).to_have_text("Discussion")
    await plan.get_by_text("The whole plan").click()
    await expect(plan.locator("#agenda-list li.done")).to_have_count(3)
    await expect(plan.locator("li[aria-current=step]")).to_have_text(re.compile(r"^▶Discussion \(now\)"))
    await plan.scroll_into_view_if_needed()
    await plan.screenshot(path=str(SHOTS / "format-agenda-progress-en.png"))
    for title in ("Check-out round", "Closing and thanks"):
        await controls.get_by_role("button", name="Next part").click()
        await expect(ben.locator("#agenda-now")).to_have_text(title)

    # After the last part: free time, open to everyone, then the end.
    await controls.get_by_role("button", name="Next part").click()
    await expect(ben.locator("#agenda-now")).to_have_text("Free time")
    await expect(ben.locator("#agenda-timer")).to_have_text(re.compile(r"^1[45]:\d\d left$"))
    await expect(asha.locator("#agenda-now")).to_have_text("खुला समय")
    await expect(controls.get_by_role("button", name="Next part")).to_be_hidden()
    await expect(controls.get_by_role("button", name="End the meeting")).to_be_visible()
    await expect(ben.get_by_role("button", name="Raise hand")).to_be_hidden()  # no queue in free time
    await expect(ben.locator("#floor-note")).to_have_text("No queue now: everyone can speak.")
    await shoot(charan, "format-free-pa")
    await fits_a_phone(charan)
    await clock.advance(15 * MIN)
    await expect(ben.locator("#agenda-now")).to_have_text("The meeting hasn't started yet.")
    await expect(ben.locator("#chat-log")).to_contain_text("The meeting has ended. Thank you for being here.")
    await expect(asha.locator("#chat-log")).to_contain_text("मीटिंग समाप्त हो गई।")
    await expect(controls.get_by_role("button", name="Start the meeting")).to_be_visible()

    # Next week's meeting can start again, and the facilitator can end it early.
    await controls.get_by_role("button", name="Start the meeting").click()
    await expect(ben.locator("#agenda-now")).to_have_text("Welcome and purpose")
    await controls.get_by_role("button", name="End the meeting").click()
    await fac.get_by_role("dialog").get_by_role("button", name="End the meeting").click()
    await expect(ben.locator("#agenda-now")).to_have_text("The meeting hasn't started yet.")
    await expect(ben.locator("#reading")).to_be_hidden()


async def test_a_format_set_while_people_are_in_the_room_reaches_them(server: str, session: Session) -> None:
    """A coordinator gives a circle its format during a meeting: the pages read it (with the
    readings, which no event carries) and show the plan without a reload."""
    await create_room(server, "late-circle")
    member = await session.open(server, "late-circle", "member", "Asha", phone=True, locale="pa-IN",
                                wait_for_room=False)
    await expect(member.locator("#chat-log")).to_be_visible()
    await expect(member.locator("#agenda")).to_be_hidden()
    async with aiohttp.ClientSession() as http, \
            http.put(f"{server}/api/rooms/late-circle/format", json={"template": "twelve-step"},
                     headers=ADMIN) as r:
        assert r.status == 200
    plan = member.get_by_role("region", name="ਮੀਟਿੰਗ ਦੀ ਰੂਪ-ਰੇਖਾ")
    await expect(plan).to_contain_text("ਪਹਿਲਾਂ: ਸ਼ੁਰੂਆਤ ਅਤੇ ਸਵਾਗਤ")
    await plan.get_by_text("ਪੂਰੀ ਰੂਪ-ਰੇਖਾ").click()
    await expect(plan.locator("#agenda-list li")).to_have_count(9)  # eight parts and the free time
    await expect(plan.locator("#agenda-list")).to_contain_text("ਪਾਠ · 5 ਮਿੰਟ")
    await fits_a_phone(member)
    async with aiohttp.ClientSession() as http, \
            http.delete(f"{server}/api/rooms/late-circle/format", headers=ADMIN) as r:
        assert r.status == 204
    await expect(member.locator("#agenda")).to_be_hidden()


async def test_a_member_chairs_a_smart_meeting_from_the_guidelines_to_the_free_time(
        meeting: tuple[str, ManualClock], session: Session) -> None:
    """Issue 17's meeting: four pages in a circle that asks for its guidelines; the
    facilitator makes a member the chair, and the chair runs the SMART-style meeting from
    its welcome (which greets the newcomer, unnamed) to the free time; the chair's service
    ends with the meeting."""
    base, clock = meeting
    await create_room(base, "chaired-circle", consent=True, share_seconds=300)
    async with aiohttp.ClientSession() as http, \
            http.put(f"{base}/api/rooms/chaired-circle/format", json={"template": "smart"}, headers=ADMIN) as r:
        assert r.status == 200, await r.text()
    fac = await session.open(base, "chaired-circle", "facilitator", "Meera")
    pages = {}
    for name, locale, arrival in (("Asha", "en-US", None), ("Ben", "hi-IN", "मैं यहाँ नया/नई हूँ"),
                                  ("Charan", "en-US", "I'm coming back after a while")):
        page = await session.open(base, "chaired-circle", "member", name, phone=True, locale=locale,
                                  wait_for_room=False)
        consent = page.locator("#consent")
        await expect(consent).to_be_visible()
        if arrival:
            await consent.get_by_label(arrival).check()
        await consent.get_by_role("button").click()
        await expect(page.locator("#chat-log")).to_be_visible()
        pages[name] = page
    asha, ben, charan = pages["Asha"], pages["Ben"], pages["Charan"]

    await fac.get_by_label("Service for Asha").select_option(label="Chair")
    await expect(asha.get_by_role("heading", name="You are the chair of this meeting")).to_be_visible()
    plan = asha.get_by_role("region", name="Meeting plan")
    await expect(ben.get_by_role("button", name="शुरू करें")).to_have_count(0)
    await plan.get_by_label("Who reads: Welcome and purpose").select_option(label="Charan")
    await plan.get_by_role("button", name="Start the meeting").click()
    # The welcome greets the one newcomer without naming him, in each reader's language.
    await expect(charan.locator("#agenda-note")).to_have_text("Someone is new today: welcome!")
    await expect(ben.locator("#agenda-note")).to_have_text("आज एक साथी नया है: स्वागत है!")
    await expect(charan.locator("#floor-who")).to_have_text("You have the floor. Take your time.")
    await shoot(asha, "format-chair-en")
    for title in ("Check-in round", "Agenda: what shall we work on today?", "Discussion", "Check-out round",
                  "Closing and thanks", "Free time"):
        await plan.get_by_role("button", name="Next part").click()
        await expect(charan.locator("#agenda-now")).to_have_text(title)
    await expect(ben.get_by_role("button", name="हाथ उठाएँ")).to_be_hidden()  # free time: no queue
    # The free time runs out: the meeting is over, and so is Asha's service.
    await clock.advance(15 * MIN)
    await expect(charan.locator("#agenda-now")).to_have_text("The meeting hasn't started yet.")
    await expect(asha.get_by_role("heading", name="You are the chair of this meeting")).to_be_hidden()
    await expect(plan.get_by_role("button", name="Start the meeting")).to_be_hidden()
    await expect(fac.get_by_label("Service for Asha")).to_have_value("")

"""Schedules in a real browser (issue 16): a coordinator makes a weekly circle in the staff
console and lists it; its calendar parses with icalendar and the meeting list keeps to the
Meeting Guide spec; a newcomer who found it opens the circle's page, knocks with a name,
waits in the lobby and is let in; a member who comes while the circle is closed is told
when it opens, in their own language; a refused schedule shows the server's reason."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import icalendar
from playwright.async_api import expect

from tests.support import ADMIN_KEY
from tests.unit.test_schedules import check_against_spec

from .conftest import PHONE, SHOTS, WAIT_MS, Session, create_room, shoot
from .test_console import open_console, sign_in

KOLKATA = ZoneInfo("Asia/Kolkata")
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


async def test_a_coordinator_lists_a_weekly_circle_and_a_newcomer_knocks(server: str, session: Session) -> None:
    # A meeting that started five minutes ago (Kolkata time), so that it is open now.
    start = datetime.now(KOLKATA) - timedelta(minutes=5)
    console = await open_console(session, server)
    await sign_in(console)
    await console.get_by_label("Name", exact=True).fill("Open recovery circle")
    await console.get_by_role("button", name="Create").click()
    schedule = console.get_by_role("region", name="Schedule")
    await expect(schedule).to_contain_text("No schedule: the circle is open whenever someone is in it.")

    # A refused value shows the server's reason, naming the field.
    await schedule.get_by_label(start.strftime("%A")).check()
    await schedule.get_by_label("Starts at (local time)").fill(start.strftime("%H:%M"))
    await schedule.get_by_label("Length (minutes)").fill("60")
    await schedule.get_by_label("Time zone").fill("Asia/Kolkatta")
    await schedule.get_by_role("button", name="Save schedule").click()
    await expect(schedule.get_by_role("status").last).to_contain_text(
        "Not saved: schedule.tz: unknown time zone 'Asia/Kolkatta'")

    await schedule.get_by_label("Time zone").fill("Asia/Kolkata")
    await schedule.get_by_label("List publicly").check()
    await schedule.get_by_role("button", name="Save schedule").click()
    await expect(schedule.get_by_role("status").last).to_have_text("Schedule saved.")
    await expect(schedule).to_contain_text("Open now.")
    page_link = schedule.get_by_label("The circle's page (for newcomers)")
    await expect(page_link).to_have_value(server + "/#room=open-recovery-circle")
    ics_link = await schedule.get_by_label("Calendar to subscribe to").input_value()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await schedule.screenshot(path=str(SHOTS / "console-schedule-en.png"))

    # Its meetings follow the SMART-style format, chosen here too.
    formats = console.get_by_role("region", name="Meeting format")
    await expect(formats).to_contain_text("No format: the facilitator runs each meeting by hand.")
    await formats.get_by_label("The format its meetings follow").select_option(
        label="Self-management meeting (SMART-style) (85 min, 6 parts)")
    await formats.get_by_role("button", name="Use this format").click()
    await expect(formats.get_by_role("status").last).to_have_text(
        "Saved: its meetings follow Self-management meeting (SMART-style).")
    async with aiohttp.ClientSession() as http, \
            http.get(server + "/api/rooms/open-recovery-circle/format", headers=ADMIN) as r:
        assert r.status == 200 and (await r.json())["id"] == "smart"

    # What calendar apps and meeting-list apps fetch.
    async with aiohttp.ClientSession() as http:
        async with http.get(ics_link) as r:
            assert r.status == 200
            cal = icalendar.Calendar.from_ical(await r.text())
        async with http.get(server + "/meetings.json") as r:
            meetings = await r.json()
    [event] = list(cal.walk("VEVENT"))
    assert str(event["SUMMARY"]) == "Open recovery circle"
    assert event.decoded("DTSTART").strftime("%H:%M") == start.strftime("%H:%M")
    check_against_spec(meetings)
    assert [m["conference_url"] for m in meetings] == [server + "/#room=open-recovery-circle"]

    # A newcomer follows the meeting list's link, on a phone.
    fac = await session.open(server, "open-recovery-circle", "facilitator", "Meera")
    ctx = await session.browser.new_context(viewport=PHONE, locale="en-US", device_scale_factor=1)
    ctx.set_default_timeout(WAIT_MS)
    newcomer = await ctx.new_page()
    newcomer.on("pageerror", lambda e: session.errors.append(f"newcomer: {e}"))
    await newcomer.goto(server + "/#room=open-recovery-circle")
    await expect(newcomer.get_by_role("heading", name="Join this circle")).to_be_visible()
    await expect(newcomer.get_by_text("Open recovery circle")).to_be_visible()
    await expect(newcomer.get_by_text("The circle is open now.")).to_be_visible()
    await shoot(newcomer, "circle-page-en")
    await newcomer.get_by_label("Your name in the circle").fill("New here")
    await newcomer.get_by_role("button", name="Ask to join").click()
    await expect(newcomer.get_by_role("heading", name="Waiting for a facilitator to let you in")).to_be_visible()
    lobby = fac.get_by_role("list", name="Waiting to join")
    await lobby.get_by_role("listitem").filter(has_text="New here").get_by_role("button", name="Admit").click()
    await expect(newcomer.locator("#chat-log")).to_be_visible()

    # Removed: the page is no longer listed, and the link needs a token again.
    await schedule.get_by_role("button", name="Remove schedule").click()
    await expect(schedule.get_by_role("status").last).to_have_text(
        "Schedule removed: the circle is always open again.")
    await newcomer.goto(server + "/#room=open-recovery-circle")
    await newcomer.reload()
    await expect(newcomer.get_by_role("heading", name=re.compile("link"))).to_be_visible()


async def test_a_member_who_comes_early_is_told_when_it_opens_in_their_language(server: str,
                                                                                 session: Session) -> None:
    await create_room(server, "sunday-circle")
    # Tomorrow, so that it is closed now whatever the hour.
    tomorrow = datetime.now(KOLKATA) + timedelta(days=1)
    body = {"title": "Sunday circle", "days": [tomorrow.isoweekday()], "start": "19:00", "duration_min": 60}
    async with aiohttp.ClientSession() as http, \
            http.put(server + "/api/rooms/sunday-circle/schedule", json=body, headers=ADMIN) as r:
        assert r.status == 200, await r.text()
        opens = (await r.json())["next"]["opens_ms"]
    for locale, title in (("en-US", "This circle isn't open yet"), ("hi-IN", "यह सर्कल अभी खुला नहीं है"),
                          ("pa-IN", "ਇਹ ਸਰਕਲ ਅਜੇ ਖੁੱਲ੍ਹਾ ਨਹੀਂ ਹੈ")):
        page = await session.open(server, "sunday-circle", "member", "Asha", phone=True, locale=locale,
                                  wait_for_room=False)
        await expect(page.get_by_role("heading", name=title)).to_be_visible()
        text = await page.locator("#notice-text").inner_text()
        # The opening time in the reader's time zone (the browser's: UTC here): 13:20 or 1:20.
        at = datetime.fromtimestamp(opens / 1000, UTC)
        assert f"{at:%H:%M}" in text or f"{at.hour % 12 or 12}:{at:%M}" in text, text
        assert str(at.day) in text, text
        if locale != "en-US":
            assert not re.search(r"[A-Za-z]{3,}", text), f"English left in {locale}: {text}"
        await shoot(page, f"circle-closed-{locale[:2]}")
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, width
        await page.context.close()


async def test_the_schedule_form_on_a_phone_in_hindi_and_punjabi(server: str, session: Session) -> None:
    await create_room(server, "weekly")
    for locale, key_label, button, heading in (("hi-IN", "एडमिन की", "साइन इन करें", "समय-सारणी"),
                                               ("pa-IN", "ਐਡਮਿਨ ਕੁੰਜੀ", "ਸਾਈਨ ਇਨ ਕਰੋ", "ਸਮਾਂ-ਸਾਰਣੀ")):
        page = await open_console(session, server, phone=True, locale=locale)
        await sign_in(page, label=key_label, button=button)
        await page.locator("#circles li[data-key=weekly] button[data-action=links]").click()
        region = page.get_by_role("region", name=heading)
        await expect(region).to_be_visible()
        text = await region.inner_text()
        assert not re.search(r"\b(Monday|Tuesday|Schedule|Save|minutes)\b", text), text
        card = await page.locator("#format-card").inner_text()
        assert not re.search(r"\b(Meeting|format|Use|Remove|min|parts)\b", card), card
        SHOTS.mkdir(parents=True, exist_ok=True)
        await region.screenshot(path=str(SHOTS / f"console-schedule-{locale[:2]}.png"))
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, width
        await page.context.close()

"""The staff console's on-call, figures, audit and settings views, in a real Chromium
against a real server: who is on duty and who the rota expects but is not; pages and
answer times after a member waited and a responder came; the audit by kind of action,
a page at a time; a circle's settings saved, and a refused value explained by the
server's own message; the views on a phone in English, Hindi and Punjabi, by keyboard."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from playwright.async_api import Locator, Page, expect

from tests.support import ADMIN_KEY, Client, token

from .conftest import SHOTS, Session
from .test_console import open_console, sign_in

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


async def api(base: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.request(method, base + path, json=body, headers=ADMIN) as r:
        return r.status, await r.json() if r.content_type == "application/json" else None


async def socket(base: str, room: str, role: str, name: str, sub: str, *, join: bool = True) -> Client:
    c = Client(base, token(room, role, name=name, sub=sub), name=name)
    await c.connect()
    if join:
        await c.join(room)
    return c


def section(page: Page, heading: str) -> Locator:
    return page.get_by_role("region", name=heading, exact=True)


async def add_shift(page: Page, responder: str, name: str, days: list[str], start: str, end: str,
                    tz: str | None = None) -> None:
    form = page.get_by_role("form", name="Add a shift")
    await form.get_by_label("Responder's id").fill(responder)
    await form.get_by_label("Responder's name").fill(name)
    for day in days:
        await form.get_by_label(day, exact=True).check()
    await form.get_by_label("Starts").fill(start)
    await form.get_by_label("Ends").fill(end)
    if tz is not None:
        await form.get_by_label("Time zone").fill(tz)
    await form.get_by_role("button", name="Add shift").click()


EVERY_DAY = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


async def test_the_console_shows_who_is_on_duty_and_who_the_rota_expects_but_is_not(
        server: str, session: Session) -> None:
    console = await open_console(session, server)
    await sign_in(console)
    oncall = section(console, "On call now")
    missing = oncall.get_by_role("list", name="Expected now, not on duty")
    on_duty = oncall.get_by_role("list", name="On duty now")
    await expect(oncall.get_by_text("Nobody is on duty.")).to_be_visible()

    # Ravi goes on duty from his own phone (a real Socket.IO client): the console, which
    # refreshes by itself, lists him with the name on his link.
    ravi = await socket(server, "*", "responder", "Ravi", "ravi", join=False)
    try:
        assert (await ravi.call("oncall.duty", {"on": True}))["ok"]
        await expect(on_duty.get_by_role("listitem")).to_have_count(1)
        await expect(on_duty).to_contain_text("Ravi (ravi)")
        await expect(on_duty).to_contain_text("on duty since")

        # The rota: Gita all day every day (so: now), Ravi too; Dev on Sundays at night
        # only once, in another time zone.
        await add_shift(console, "gita", "Gita", EVERY_DAY, "00:00", "00:00")
        await expect(console.get_by_role("status")).to_have_text("Gita's shift is on the rota.")
        await add_shift(console, "ravi", "Ravi", EVERY_DAY, "00:00", "00:00")
        # Gita is expected and not on duty: the thing the coordinator must see.
        await expect(missing.get_by_role("listitem")).to_have_count(1)
        await expect(missing).to_contain_text("Gita (gita)")
        await expect(missing).to_contain_text("shift 00:00–00:00 (24 hours)")
        await expect(on_duty).to_contain_text("on the rota now")
        # The week: every day lists both, and today's row marks who is on duty now.
        week = oncall.get_by_role("table", name="This week's rota")
        await expect(week.get_by_role("row")).to_have_count(8)  # a header and seven days
        await expect(week.get_by_text("now: not on duty")).to_have_count(1)
        await expect(week.get_by_text("now: on duty", exact=True)).to_have_count(1)
        today = week.get_by_role("row").filter(has_text="now: not on duty")
        await expect(today).to_contain_text("Gita 00:00–00:00")
        await expect(today).to_contain_text("now: on duty")

        # A refused shift keeps the rota as it was and says why, naming the field.
        await add_shift(console, "dev", "Dev", ["Sunday"], "22:00", "06:00", tz="India/Delhi")
        await expect(oncall.get_by_role("alert")).to_contain_text(
            "shifts[2].tz: unknown time zone 'India/Delhi'")
        status, rota = await api(server, "GET", "/api/oncall/rota")
        assert status == 200 and [s["responder"] for s in rota["shifts"]] == ["gita", "ravi"]

        # Ravi goes off duty: now two are expected and not on duty.
        assert (await ravi.call("oncall.duty", {"on": False}))["ok"]
        await expect(missing.get_by_role("listitem")).to_have_count(2)
        await expect(oncall.get_by_text("Nobody is on duty.")).to_be_visible()
        # Gita's shift removed from the rota: only Ravi is expected.
        shifts = oncall.get_by_role("list", name="Shifts")
        await shifts.get_by_role("button", name=re.compile("^Remove the shift of Gita")).click()
        await expect(shifts.get_by_role("listitem")).to_have_count(1)
        await expect(missing.get_by_role("listitem")).to_have_count(1)
        await expect(missing).to_contain_text("Ravi (ravi)")
        status, rota = await api(server, "GET", "/api/oncall/rota")
        assert [s["responder"] for s in rota["shifts"]] == ["ravi"]
    finally:
        await ravi.close()


async def test_a_page_and_its_answer_time_show_in_the_figures(server: str, session: Session) -> None:
    console = await open_console(session, server)
    await sign_in(console)
    figures = section(console, "On-call: pages and answer times")
    await expect(figures.locator("[data-stat=ops_pages]")).to_have_text("0")

    # A member comes to the on-call room; nobody is there, the responders are paged; a
    # responder comes and the member's wait is measured.
    mina = await socket(server, "oncall", "member", "Mina", "mina")
    ravi = await socket(server, "oncall", "responder", "Ravi", "ravi")
    try:
        answered = await mina.wait_event("oncall.answered")
        waited = answered["data"]["waited_ms"]
        await figures.get_by_role("button", name="Count").click()
        await expect(figures.locator("[data-stat=ops_pages]")).to_have_text("1")
        await expect(figures.locator("[data-stat=ops_answered]")).to_have_text("1")
        await expect(figures.locator("[data-stat=ops_unanswered]")).to_have_text("0")
        await expect(figures.locator("[data-stat=ops_escalations]")).to_have_text("0")
        # The median answer time is the wait the member had.
        assert waited < 60_000
        shown = await console.evaluate(
            "ms => new Intl.NumberFormat('en', {maximumFractionDigits: 1}).format(ms / 1000)", waited) + " sec"
        await expect(figures.locator("[data-stat=ops_median]")).to_have_text(shown)
        days = figures.get_by_role("list", name="Day by day")
        await expect(days.get_by_role("listitem").first).to_contain_text(
            "pages: 1 · answered: 1 · not answered: 0 · escalated: 0")
        await expect(days.get_by_role("listitem")).to_have_count(7)
    finally:
        await mina.close()
        await ravi.close()


async def test_the_audit_filtered_by_action_shows_only_that_action_a_page_at_a_time(
        server: str, session: Session) -> None:
    # 120 group links in six circles (invite.create), a page and its answer, a mute.
    for n in range(6):
        assert (await api(server, "POST", "/api/rooms", {"id": f"circle-{n}", "title": f"Circle {n}"}))[0] == 201
        for _ in range(20):
            assert (await api(server, "POST", f"/api/rooms/circle-{n}/invites", {}))[0] == 201
    mina = await socket(server, "oncall", "member", "Mina", "mina")
    ravi = await socket(server, "oncall", "responder", "Ravi", "ravi")
    fay = await socket(server, "circle-0", "facilitator", "Fay", "fay")
    ben = await socket(server, "circle-0", "member", "Ben", "ben")
    try:
        await mina.wait_event("oncall.answered")
        assert (await fay.call("participant.mute", {"room": "circle-0", "participant": "ben", "muted": True}))["ok"]
        console = await open_console(session, server)
        await sign_in(console)
        audit = section(console, "Audit log")
        entries = audit.get_by_role("list", name="Audit log").get_by_role("listitem")

        await audit.get_by_label("What").select_option(label="Answered")
        await audit.get_by_role("button", name="Show").click()
        await expect(entries).to_have_count(1)
        await expect(entries.first).to_contain_text("oncall.answered")
        await expect(entries.first).to_contain_text("→ mina")
        await expect(entries.first).to_contain_text(re.compile(r"waited [\d.]+ sec"))
        await expect(audit.get_by_role("button", name="Older")).to_be_hidden()

        # A group of actions, and only those; older ones a page at a time.
        await audit.get_by_label("What").select_option(label="Group link made")
        await audit.get_by_role("button", name="Show").click()
        await expect(entries).to_have_count(100)
        await audit.get_by_role("button", name="Older").click()
        await expect(entries).to_have_count(120)
        await expect(audit.get_by_role("button", name="Older")).to_be_hidden()
        texts = await entries.all_inner_texts()
        assert all("invite.create" in t for t in texts) and len(set(texts)) == 120

        # One circle, one kind: the mute in circle-0, nothing of the on-call room.
        await audit.get_by_label("Circle", exact=True).select_option(label="Circle 0")
        await audit.get_by_label("What").select_option(label="Muted")
        await audit.get_by_role("button", name="Show").click()
        await expect(entries).to_have_count(1)
        await expect(entries.first).to_contain_text("circle-0")
        await expect(entries.first).to_contain_text("→ ben (fay)")
        # A time span that ends before anything happened shows nothing.
        await audit.get_by_label("What").select_option(label="Everything")
        await audit.get_by_label("To", exact=True).fill("2020-01-01T10:00")
        await audit.get_by_role("button", name="Show").click()
        await expect(audit.get_by_text("Nothing matches.")).to_be_visible()
        await expect(entries).to_have_count(0)
        # The audit holds no names: the page never showed one.
        assert "Mina" not in await audit.inner_text() and "Ben" not in await audit.inner_text()
    finally:
        for c in (mina, ravi, fay, ben):
            await c.close()


async def test_a_circles_settings_are_changed_in_the_console_and_a_refused_value_is_explained(
        server: str, session: Session) -> None:
    assert (await api(server, "POST", "/api/rooms", {"id": "tuesday", "title": "Tuesday circle"}))[0] == 201
    console = await open_console(session, server)
    await sign_in(console)
    circles = console.get_by_role("list", name="Circles")
    row = circles.get_by_role("listitem").filter(has_text="Tuesday circle")
    await expect(row).to_contain_text("0 in it now · nobody connected")
    await row.get_by_role("button", name="Settings: Tuesday circle").click()
    # (Its name follows the circle's, which changes below.)
    settings = console.get_by_role("region", name=re.compile("^Settings of Tuesday"))
    await expect(settings.get_by_role("heading", name="Settings of Tuesday circle")).to_be_focused()
    share = settings.get_by_label("Length of a share (seconds; empty: no limit)")
    await expect(share).to_have_value("180")

    await share.fill("120")
    await settings.get_by_label("Lobby: a facilitator lets each person in").check()
    await settings.get_by_label("Chat", exact=True).select_option(label="Facilitators only")
    await settings.get_by_label("Name of the circle").fill("Tuesday evening circle")
    await settings.get_by_role("button", name="Save").click()
    await expect(settings.get_by_role("status")).to_have_text("Saved.")
    status, room = await api(server, "GET", "/api/rooms/tuesday")
    assert status == 200
    assert (room["settings"]["share_seconds"], room["settings"]["lobby"], room["settings"]["chat"]) == (
        120, True, "facilitators")
    assert room["title"] == "Tuesday evening circle"
    await expect(circles).to_contain_text("Tuesday evening circle")
    await expect(settings.get_by_role("heading")).to_have_text("Settings of Tuesday evening circle")
    # The live view: someone comes in, and the row says so by itself.
    fay = await socket(server, "tuesday", "facilitator", "Fay", "fay")
    try:
        await expect(circles.get_by_role("listitem").filter(has_text="Tuesday evening circle")).to_contain_text(
            "1 in it now · live")
    finally:
        await fay.close()

    # Out of range: the server's own message, beside the field it names; nothing saved.
    await share.fill("5")
    await settings.get_by_role("button", name="Save").click()
    alert = settings.get_by_role("alert")
    await expect(alert).to_have_text("The server refused this: Length of a share (seconds; empty: no limit): "
                                     "share_seconds must be an integer from 10 to 3600")
    await expect(share).to_be_focused()
    await expect(share).to_have_attribute("aria-invalid", "true")
    assert (await api(server, "GET", "/api/rooms/tuesday"))[1]["settings"]["share_seconds"] == 120
    await share.fill("")  # empty: shares are untimed
    await settings.get_by_role("button", name="Save").click()
    await expect(settings.get_by_role("status")).to_have_text("Saved.")
    assert (await api(server, "GET", "/api/rooms/tuesday"))[1]["settings"]["share_seconds"] is None


CONTROLS = "input, select, button, textarea"


async def test_the_new_views_on_a_phone_by_keyboard_in_three_languages(server: str, session: Session) -> None:
    # Gita all day, every day (expected now, not on duty); Dev's night shift three days
    # away (never now, whenever this runs).
    today = datetime.now(ZoneInfo("Asia/Kolkata")).isoweekday()
    assert (await api(server, "PUT", "/api/oncall/rota", {"shifts": [
        {"responder": "gita", "name": "Gita", "days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "00:00"},
        {"responder": "dev", "name": "Dev Kumar", "days": [(today + 2) % 7 + 1], "start": "22:00",
         "end": "06:00"}]}))[0] == 200
    mina = await socket(server, "oncall", "member", "Mina", "mina")
    ravi = await socket(server, "*", "responder", "Ravi", "ravi", join=False)
    try:
        assert (await ravi.call("oncall.duty", {"on": True}))["ok"]
        for locale, key_label, button in (("en-US", "Admin key", "Sign in"), ("hi-IN", "एडमिन की", "साइन इन करें"),
                                          ("pa-IN", "ਐਡਮਿਨ ਕੁੰਜੀ", "ਸਾਈਨ ਇਨ ਕਰੋ")):
            lang = locale[:2]
            page = await open_console(session, server, phone=True, locale=locale)
            await sign_in(page, label=key_label, button=button)
            await expect(page.locator("#ops-on-duty li")).to_have_count(1)
            await expect(page.locator("#ops-missing li")).to_have_count(1)
            await page.locator("#circles button[data-action=settings]").first.click()
            await expect(page.locator("#ops-settings")).to_be_visible()
            await page.locator("#ops-audit-form button[type=submit]").click()
            await expect(page.locator("#ops-audit li").first).to_be_visible()

            # Nothing wider than the phone; every control labelled; nothing left in English.
            width = await page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, (lang, width)
            unlabelled = await page.evaluate(f"""() => [...document.querySelectorAll('.ops :is({CONTROLS})')]
                .filter(el => !el.closest('[hidden]'))
                .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                              && !(el.tagName === 'BUTTON' && el.textContent.trim()))
                .map(el => el.id || el.outerHTML.slice(0, 80))""")
            assert unlabelled == [], unlabelled
            if lang != "en":
                english = await page.evaluate("""async () => {
                    const { TABLES } = await import('/web/i18n.js');
                    return [...document.querySelectorAll('.ops [data-i18n], .ops [data-i18n-label]')]
                      .filter(el => {
                        const key = el.dataset.i18n || el.dataset.i18nLabel;
                        const text = el.dataset.i18n ? el.textContent : el.label;
                        return text === TABLES.en[key];
                      }).map(el => el.dataset.i18n || el.dataset.i18nLabel);
                }""")
                assert english == [], (lang, english)
            SHOTS.mkdir(parents=True, exist_ok=True)
            for view, name in (("#ops-settings", "settings"), ("section:has(#ops-duty-title)", "oncall"),
                               ("section:has(#ops-stats-title)", "stats"), ("section:has(#audit-title)", "audit"),
                               ("section:has(#circles-title)", "circles")):
                # The whole page, cut to the view (an element screenshot would scroll
                # under the sticky top bar and show it across the view).
                await page.evaluate("window.scrollTo(0, 0)")
                box = await page.locator(view).bounding_box()
                assert box is not None
                await page.screenshot(path=str(SHOTS / f"console-ops-{name}-{lang}.png"), full_page=True,
                                      clip={"x": 0, "y": max(0, box["y"] - 8), "width": 390,
                                            "height": box["height"] + 16})

            # Keyboard: from each view's heading, Tab goes through every control of the
            # view (and of no other) before it leaves, each with the visible focus ring.
            if lang == "en":
                for heading, least in (("#ops-settings-title", 16), ("#ops-duty-title", 15), ("#ops-stats-title", 3),
                                       ("#audit-title", 5)):
                    await tab_through(page, heading, least)
            await page.context.close()
    finally:
        await mina.close()
        await ravi.close()


async def tab_through(page: Page, heading: str, least: int) -> None:
    """Tab from ``heading`` until focus leaves its section: every visible control of the
    section must have been reached, each showing the 3 px focus ring."""
    wanted = await page.evaluate(f"""() => {{
        const view = document.querySelector('{heading}').closest('section');
        const controls = [...view.querySelectorAll('{CONTROLS}')]
          .filter(el => !el.disabled && el.offsetParent !== null);
        document.querySelectorAll('[data-tabcheck]').forEach(el => delete el.dataset.tabcheck);
        controls.forEach((el, i) => {{ el.dataset.tabcheck = String(i); }});
        return controls.length;
    }}""")
    assert wanted >= least, (heading, wanted)
    await page.locator(heading).focus()
    reached: set[str] = set()
    no_ring: list[str] = []
    for _ in range(4 * wanted):
        await page.keyboard.press("Tab")
        index, ring, what = await page.evaluate("""() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return [el.dataset.tabcheck ?? null, style.outlineStyle + ' ' + style.outlineWidth,
                    el.tagName + ':' + (el.type || '') + ':' + (el.id || el.textContent.slice(0, 20))];
        }""")
        if index is None:
            break
        reached.add(index)
        if ring != "solid 3px":
            no_ring.append(what)
    assert sorted(reached, key=int) == [str(i) for i in range(wanted)], (heading, wanted, reached)
    assert no_ring == [], (heading, no_ring)

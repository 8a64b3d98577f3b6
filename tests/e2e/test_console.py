"""The staff console at /staff (issue 16), in a real browser: a wrong admin key gets a
clear message; a coordinator creates a circle, makes a group link (the link, a QR code
and a WhatsApp message), and two people join through it (lobby, admit); a revoked link
no longer admits; the key is never in the address or in storage."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.support import ADMIN_KEY

from .conftest import DESKTOP, PHONE, WAIT_MS, Session, shoot
from .test_invites import open_invite


async def open_console(session: Session, base: str, *, phone: bool = False, locale: str = "en-US") -> Page:
    ctx = await session.browser.new_context(viewport=PHONE if phone else DESKTOP, locale=locale,
                                            device_scale_factor=1, reduced_motion="reduce")
    ctx.set_default_timeout(WAIT_MS)
    page = await ctx.new_page()
    page.on("pageerror", lambda e: session.errors.append(f"console: {e}"))
    await page.goto(base + "/staff")
    return page


async def sign_in(page: Page, key: str = ADMIN_KEY, label: str = "Admin key", button: str = "Sign in") -> None:
    await page.get_by_label(label).fill(key)
    await page.get_by_role("button", name=button).click()


async def test_a_coordinator_makes_a_circle_and_a_group_link_that_two_people_use(server: str,
                                                                                   session: Session) -> None:
    console = await open_console(session, server)
    await sign_in(console, "not-the-key-" + "x" * 30)
    await expect(console.get_by_role("alert")).to_have_text("That key was not accepted. Check it and try again.")
    await sign_in(console)
    await expect(console.get_by_role("heading", name="Circles", exact=True)).to_be_focused()
    # The key is in this tab's memory only.
    assert ADMIN_KEY not in console.url
    stored = await console.evaluate("() => JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})")
    assert ADMIN_KEY not in stored

    await console.get_by_label("Name", exact=True).fill("Tuesday evening circle")
    await console.get_by_role("button", name="Create").click()
    circles = console.get_by_role("list", name="Circles")
    await expect(circles.get_by_role("listitem")).to_contain_text(["Tuesday evening circle"])
    await expect(console.get_by_role("heading", name="Links for Tuesday evening circle")).to_be_visible()
    await console.get_by_label("How many people may use it").fill("5")
    await console.get_by_role("button", name="Make a group link").click()
    the_link = console.get_by_label("The link")
    await expect(the_link).to_have_value(re.compile(re.escape(server) + r"/#invite=tuesday-evening-circle\.[\w-]+$"))
    url = await the_link.input_value()
    await expect(console.get_by_role("img", name="QR code of the link")).to_have_attribute(
        "src", re.compile(r"^data:image/svg\+xml"))
    message = await console.get_by_label("A message to paste into WhatsApp").input_value()
    assert url in message and "Tuesday evening circle" in message
    await expect(console.get_by_role("list", name="Group links of this circle")).to_contain_text("Used 0 of 5 times")
    await shoot(console, "console-group-link")

    # The facilitator opens the circle; two people come by the link and are let in.
    fac = await session.open(server, "tuesday-evening-circle", "facilitator", "Meera")
    lobby = fac.get_by_role("list", name="Waiting to join")
    for name in ("Asha", "Gurpreet"):
        page = await open_invite(session, server, url.removeprefix(server))
        await page.get_by_label("Your name in the circle").fill(name)
        await page.get_by_role("button", name="Ask to join").click()
        await expect(page.get_by_role("heading", name="Waiting for a facilitator to let you in")).to_be_visible()
        await lobby.get_by_role("listitem").filter(has_text=name).get_by_role("button", name="Admit").click()
        await expect(page.locator("#chat-log")).to_be_visible()
    await expect(circles.get_by_role("listitem").filter(has_text="Tuesday evening circle")).to_contain_text(
        "3 in it now", timeout=15_000)

    # Revoked from the console: the link lets nobody in any more.
    links = console.get_by_role("list", name="Group links of this circle")
    await console.get_by_role("button", name="Links: Tuesday evening circle").click()
    await expect(links).to_contain_text("Used 2 of 5 times")
    await links.get_by_role("button", name="Revoke").click()
    await expect(links.get_by_role("listitem")).to_have_count(0)
    late = await open_invite(session, server, url.removeprefix(server))
    await late.get_by_label("Your name in the circle").fill("Ravi")
    await late.get_by_role("button", name="Ask to join").click()
    await expect(late.locator("#invite-status")).to_contain_text("This invitation no longer works")

    # The audit shows what was done, by id, never a name.
    await console.get_by_role("button", name="Show").click()
    audit = console.get_by_role("list", name="Audit log")
    await expect(audit).to_contain_text("invite.revoke")
    await expect(audit).to_contain_text("invite.use")
    assert "Asha" not in await audit.inner_text()


async def test_the_console_on_a_phone_in_hindi_and_punjabi(server: str, session: Session) -> None:
    for locale, key_label, button, heading in (("hi-IN", "एडमिन की", "साइन इन करें", "सर्कल"),
                                               ("pa-IN", "ਐਡਮਿਨ ਕੁੰਜੀ", "ਸਾਈਨ ਇਨ ਕਰੋ", "ਸਰਕਲ")):
        page = await open_console(session, server, phone=True, locale=locale)
        await shoot(page, f"console-signin-{locale[:2]}")
        await sign_in(page, label=key_label, button=button)
        await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_focused()
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, width  # nothing wider than the phone
        await shoot(page, f"console-{locale[:2]}")
        await page.context.close()

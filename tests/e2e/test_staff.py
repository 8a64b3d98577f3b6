"""Staff at work: a responder on duty is paged and answers, a private 1:1 room opens and
closes, a facilitator bans and removes people, and ends the circle for everyone."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from playwright.async_api import Locator, Page, expect

from tests.support import ADMIN_KEY, token

from .conftest import Session, create_room, shoot

PAGES = "People waiting for a responder"
ANSWERED = "A responder is here with you now."
ENDED = "The circle has ended"
PRIVATE_ENDED = "The private conversation has ended"


def people(page: Page, name: str) -> Locator:
    """The participant list item for ``name``."""
    return page.get_by_role("list", name="Participants").get_by_role("listitem").filter(has_text=name)


def chat(page: Page) -> Locator:
    return page.get_by_role("region", name="Chat")


async def patch_room(base: str, room: str, **settings: Any) -> None:
    """Change a room's settings through the admin API."""
    async with aiohttp.ClientSession() as http, http.patch(
            f"{base}/api/rooms/{room}", json={"settings": settings},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as r:
        assert r.status == 200, await r.text()


async def send(page: Page, text: str) -> None:
    await page.get_by_label("Message").fill(text)
    await page.get_by_role("button", name="Send", exact=True).click()


async def follow(session: Session, page: Page, link: Locator, who: str) -> Page:
    """Click a link that opens a new tab; the tab's uncaught errors fail the test too."""
    async with page.context.expect_page() as opened:
        await link.click()
    tab = await opened.value
    tab.on("pageerror", lambda e: session.errors.append(f"{who}: {e}"))
    await expect(chat(tab)).to_be_visible()
    return tab


async def test_a_responder_on_duty_is_paged_and_answers(server: str, session: Session) -> None:
    # The responder sits in a circle of their own (as a member there), with a link that
    # admits them anywhere ("*"), so the page can take them to the on-call room.
    await create_room(server, "staff-room")
    dev = await session.open(server, "staff-room", "responder", "Dev",
                             tok=token("*", "responder", name="Dev", sub="dev"))
    oncall_panel = dev.get_by_role("region", name="On-call", exact=True)
    await expect(oncall_panel.get_by_text("Nobody is waiting right now.")).to_be_visible()
    await oncall_panel.get_by_role("button", name="Go on duty").click()
    duty = oncall_panel.get_by_role("button", name="Go off duty")
    await expect(duty).to_have_attribute("aria-pressed", "true")
    await expect(oncall_panel.get_by_role("status")).to_have_text(
        "You're on duty. You'll be told when someone needs you.")

    # A member comes into the on-call room: helplines at once, and the responder is paged.
    asha = await session.open(server, "oncall", "member", "Asha", phone=True)
    crisis = asha.get_by_role("region", name="You don't have to carry this alone")
    await expect(crisis.get_by_role("link", name=re.compile("Tele-MANAS"))).to_have_attribute("href", "tel:14416")
    # Her own view of the on-call room (issue 14, item 6): a responder has been called,
    # how long she has waited, the chat; no hands, claps or milestones.
    wait = asha.get_by_role("region", name="A responder has been called")
    await expect(wait).to_contain_text("Please stay here")
    await expect(wait.get_by_role("timer")).to_contain_text("Waiting 0:")
    await expect(asha.get_by_role("button", name="Raise hand")).to_be_hidden()
    await expect(asha.get_by_text("Share a milestone")).to_be_hidden()
    await expect(asha.locator(".reactions")).to_be_hidden()
    await shoot(asha, "oncall-member-waiting")
    pages = dev.get_by_role("list", name=PAGES).get_by_role("listitem")
    await expect(pages).to_have_count(1)
    page_item = pages.first
    await expect(page_item).to_contain_text("Someone in oncall — joined the on-call room")
    await expect(page_item).to_contain_text("waiting less than a minute")
    await expect(page_item).not_to_contain_text("urgent")  # tier 1: nobody has waited too long yet
    await expect(oncall_panel.get_by_text("Nobody is waiting right now.")).to_be_hidden()
    # The page names no one: the member is "someone" until the responder is with them.
    await expect(page_item).not_to_contain_text("Asha")

    # The responder answers: "Open room" takes them into the on-call room, and the member
    # is told someone is here.
    open_room = page_item.get_by_role("link", name="Open room")
    await expect(open_room).to_have_attribute("href", re.compile(r"^/#room=oncall&token="))
    room = await follow(session, dev, open_room, "Dev (on-call)")
    await expect(room.get_by_role("heading", level=1)).to_have_text("On-call room")
    await expect(chat(asha)).to_contain_text(ANSWERED)
    await expect(asha.get_by_role("region", name="A responder is here with you")).to_be_visible()
    await expect(people(asha, "Dev")).to_contain_text("responder")
    await expect(people(room, "Asha")).to_be_visible()
    # In the on-call room the responder has the facilitator's tools.
    await expect(room.get_by_role("region", name="Facilitator tools")).to_be_visible()
    await send(asha, "I don't know who else to talk to")
    await expect(chat(room)).to_contain_text("I don't know who else to talk to")
    await send(room, "I'm here with you. Take your time.")
    await expect(chat(asha)).to_contain_text("I'm here with you")

    # Answered: the page leaves the first tab by itself (oncall.resolved), so nobody
    # else rushes in for someone already looked after; then duty ends.
    await expect(pages).to_have_count(0)
    await expect(oncall_panel.get_by_text("Nobody is waiting right now.")).to_be_visible()
    await duty.click()
    await expect(oncall_panel.get_by_role("button", name="Go on duty")).to_have_attribute("aria-pressed", "false")
    await expect(oncall_panel.get_by_role("status")).to_have_text("You're off duty.")


async def test_nobody_answers_so_every_responder_and_facilitator_is_paged(server: str, session: Session) -> None:
    # Escalation after one second rather than a minute.
    await patch_room(server, "oncall", escalate_after_seconds=1)
    await create_room(server, "staff-room")
    dev = await session.open(server, "staff-room", "responder", "Dev",
                             tok=token("*", "responder", name="Dev", sub="dev"))
    fac = await session.open(server, "thursday-circle", "facilitator", "Meera")
    # Nobody is on duty: the facilitator has no on-call panel at all yet.
    await expect(fac.get_by_role("region", name="On-call", exact=True)).to_be_hidden()

    await session.open(server, "oncall", "member", "Asha", phone=True)
    # Tier 2: every connected responder (on duty or not) and every facilitator.
    for page in (dev, fac):
        panel = page.get_by_role("region", name="On-call", exact=True)
        item = panel.get_by_role("list", name=PAGES).get_by_role("listitem")
        await expect(item).to_have_count(1)
        await expect(item).to_contain_text("Someone in oncall — joined the on-call room")
        await expect(item).to_contain_text("urgent — nobody has answered yet")
    fac_panel = fac.get_by_role("region", name="On-call", exact=True)
    # Duty is a responder's; a facilitator is only shown the page.
    await expect(fac_panel.get_by_role("button", name="Go on duty")).to_be_hidden()
    await expect(dev.get_by_role("button", name="Go on duty")).to_be_visible()
    await fac_panel.get_by_role("button", name="Dismiss").click()
    await expect(fac_panel).to_be_hidden()


async def test_a_private_room_opens_for_two_and_closes(server: str, session: Session) -> None:
    asha = await session.open(server, "oncall", "member", "Asha", phone=True)
    dev = await session.open(server, "oncall", "responder", "Dev")
    await expect(chat(asha)).to_contain_text(ANSWERED)
    # The private room is for members: none is offered for the responder themself.
    await expect(people(dev, "Dev").get_by_role("button", name=re.compile("^Talk privately"))).to_have_count(0)

    await people(dev, "Asha").get_by_role("button", name=re.compile("^Talk privately")).click()
    member_moved = asha.get_by_role("region", name="A private conversation is ready")
    staff_moved = dev.get_by_role("region", name="A private conversation is ready")
    await expect(member_moved).to_contain_text("A responder has opened a private space for just the two of you.")
    await expect(staff_moved).to_contain_text("The private room is open. The member has been invited to it too.")
    for moved in (member_moved, staff_moved):
        await expect(moved.get_by_role("link", name="Open the private conversation")).to_have_attribute(
            "href", re.compile(r"^/#room=private-[a-z0-9-]+&token="))

    # Both follow their own link (each carries its own token) into the same private room.
    asha_private = await follow(session, asha, member_moved.get_by_role("link", name="Open the private conversation"),
                                "Asha (private)")
    dev_private = await follow(session, dev, staff_moved.get_by_role("link", name="Open the private conversation"),
                               "Dev (private)")
    for tab in (asha_private, dev_private):
        await expect(tab.get_by_role("heading", level=1)).to_have_text("Private conversation")
        await expect(tab).to_have_url(re.compile(r"#room=private-"))
        await expect(tab.get_by_role("list", name="Participants").get_by_role("listitem")).to_have_count(2)
    assert asha_private.url.split("#room=")[1].split("&")[0] == dev_private.url.split("#room=")[1].split("&")[0]
    await expect(people(dev_private, "Asha")).to_be_visible()
    await expect(people(asha_private, "Dev")).to_contain_text("responder")
    await send(asha_private, "Can we talk just the two of us?")
    await expect(chat(dev_private)).to_contain_text("Can we talk just the two of us?")
    # The responder runs the private room; it offers no further private room, and the
    # member has no staff tools there.
    end = dev_private.get_by_role("button", name="End the private conversation")
    await expect(end).to_be_visible()
    await expect(dev_private.get_by_role("button", name=re.compile("^Talk privately"))).to_have_count(0)
    await expect(asha_private.get_by_role("region", name="Facilitator tools")).to_be_hidden()
    await expect(dev.get_by_role("button", name="End the private conversation")).to_be_hidden()

    # The responder ends it: the private tabs close the conversation, and the member's
    # on-call tab says they are back, where the responder still is.
    await end.click()
    for tab in (asha_private, dev_private):
        # Gentler words than a circle's end: the on-call room is still there for them.
        await expect(tab.get_by_role("heading", name=PRIVATE_ENDED)).to_be_visible()
        await expect(tab.get_by_text("The on-call room is still open whenever you need it.")).to_be_visible()
        await expect(chat(tab)).to_be_hidden()
    await expect(asha.get_by_role("status").filter(
        has_text="The private conversation has ended. You're back in the on-call room.")).to_be_visible()
    await expect(member_moved).to_be_hidden()
    await expect(staff_moved).to_be_hidden()  # the responder's on-call tab drops its panel too
    await send(asha, "Thank you for that")
    await expect(chat(dev)).to_contain_text("Thank you for that")


async def test_a_ban_keeps_someone_out_and_a_removal_sends_them_to_the_lobby(server: str, session: Session) -> None:
    room = "banning-circle"
    fac = await session.open(server, room, "facilitator", "Meera")
    asha = await session.open(server, room, "member", "Asha", phone=True)
    ravi = await session.open(server, room, "member", "Ravi", phone=True)

    # Banning asks first; "Cancel" changes nothing.
    await people(fac, "Asha").get_by_role("button", name="Ban: Asha", exact=True).click()
    dialog = fac.get_by_role("dialog", name="Ban Asha?")
    await expect(dialog).to_contain_text("Asha will be removed and won't be able to come back to this circle.")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    await expect(chat(asha)).to_be_visible()
    await people(fac, "Asha").get_by_role("button", name="Ban: Asha", exact=True).click()
    await dialog.get_by_role("button", name="Ban", exact=True).click()
    banned = asha.get_by_role("heading", name="You can't join this circle")
    await expect(banned).to_be_visible()
    await expect(asha.get_by_text("A facilitator has closed this circle to you.")).to_be_visible()
    await expect(chat(asha)).to_be_hidden()
    await expect(people(fac, "Asha")).to_have_count(0)
    await expect(people(ravi, "Asha")).to_have_count(0)

    # The ban holds: reloading the page, or a fresh link for the same person.
    await asha.reload()
    await expect(banned).to_be_visible()
    await expect(chat(asha)).to_be_hidden()
    again = await session.open(server, room, "member", "Asha", phone=True, wait_for_room=False)
    await expect(again.get_by_role("heading", name="You can't join this circle")).to_be_visible()
    await expect(people(fac, "Asha")).to_have_count(0)

    # A removal without a ban: told so; coming back means waiting in the lobby (it is
    # off for everyone else) until a facilitator lets them in.
    await people(fac, "Ravi").get_by_role("button", name="Remove: Ravi", exact=True).click()
    await fac.get_by_role("dialog", name="Remove Ravi?").get_by_role("button", name="Remove").click()
    await expect(ravi.get_by_role("heading", name="You have been removed from the circle")).to_be_visible()
    await expect(chat(ravi)).to_be_hidden()
    await expect(people(fac, "Ravi")).to_have_count(0)
    await ravi.reload()
    await expect(ravi.get_by_role("heading", name="Waiting for a facilitator to let you in")).to_be_visible()
    await expect(chat(ravi)).to_be_hidden()
    lobby = fac.get_by_role("list", name="Waiting to join")
    await lobby.get_by_role("listitem").filter(has_text="Ravi").get_by_role("button", name="Admit").click()
    await expect(chat(ravi)).to_be_visible()
    await expect(people(fac, "Ravi")).to_be_visible()
    await expect(lobby.get_by_role("listitem")).to_have_count(0)


async def test_ending_the_circle_ends_it_for_everyone(server: str, session: Session) -> None:
    room = "ending-circle"
    fac = await session.open(server, room, "facilitator", "Meera")
    asha = await session.open(server, room, "member", "Asha", phone=True)
    ravi = await session.open(server, room, "member", "Ravi", phone=True)
    await send(asha, "Thank you all for tonight")
    await expect(chat(ravi)).to_contain_text("Thank you all for tonight")

    # Ending asks first; "Cancel" leaves the circle going.
    await fac.get_by_role("button", name="End the circle for everyone").click()
    dialog = fac.get_by_role("dialog", name="End the circle for everyone?")
    await expect(dialog).to_contain_text("Everyone will be disconnected and the chat will be cleared.")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    await send(ravi, "Still here")
    await expect(chat(fac)).to_contain_text("Still here")

    await fac.get_by_role("button", name="End the circle for everyone").click()
    await dialog.get_by_role("button", name="End the circle", exact=True).click()
    for page in (fac, asha, ravi):
        await expect(page.get_by_role("heading", name=ENDED)).to_be_visible()
        await expect(page.get_by_text("Thank you for being here today. Take care of yourself.")).to_be_visible()
        await expect(chat(page)).to_be_hidden()
        await expect(page.get_by_role("button", name="Leave")).to_be_hidden()

    # It is over on the server too: the circle is gone, not just hidden in the pages.
    await asha.reload()
    await expect(asha.get_by_role("heading", name="This circle hasn't started yet")).to_be_visible()
    await expect(chat(asha)).to_be_hidden()


async def test_help_is_one_tap_away_on_every_screen(server: str, session: Session) -> None:
    # Issue 14, item 5: before, help appeared only once the detector fired.
    for locale, label in (("en-US", "Need help now?"), ("hi-IN", "अभी मदद चाहिए?"), ("pa-IN", "ਹੁਣੇ ਮਦਦ ਚਾਹੀਦੀ ਹੈ?")):
        lang = locale[:2]
        # A broken link: no connection at all, and still the helplines and the emergency number.
        bad = await session.open(server, "help-circle", "member", "Asha", phone=True, locale=locale,
                                 tok="not-a-token", wait_for_room=False)
        await bad.get_by_role("button", name=label).click()
        panel = bad.locator("#crisis")
        await expect(panel).to_be_visible()
        await expect(panel.locator("a[href='tel:14416']")).to_be_visible()
        await expect(panel.locator("a[href='tel:112']")).to_be_visible()
        await expect(bad.locator("#crisis-title")).to_be_focused()
        await shoot(bad, f"help-bad-link-{lang}")
        await bad.context.close()
        # Waiting for a circle that has not started: help, and the way to the on-call team.
        early = await session.open(server, f"not-started-{lang}", "member", "Bea", phone=True, locale=locale,
                                   wait_for_room=False)
        await expect(early.locator("#notice")).to_be_visible()
        await early.get_by_role("button", name=label).click()
        await expect(early.locator("#crisis a[href='tel:14416']")).to_be_visible()
        await expect(early.locator("#crisis-oncall a")).to_have_attribute("href", re.compile(r"^/#room=oncall&token="))
        await shoot(early, f"help-not-started-{lang}")
        await early.context.close()


async def test_the_oncall_wait_and_the_staff_alert_read_in_hindi_and_punjabi(server: str, session: Session) -> None:
    # Issue 14, items 6 and 7, in the other two languages on a phone: the member waiting in
    # the on-call room and the facilitator's alert at the top are wholly translated (no
    # English word left in them) and fit the 390 px screen.
    english = re.compile(r"\b[A-Za-z]{3,}\b")
    lines = {"hi-IN": "मैं अब और नहीं जीना चाहता", "pa-IN": "ਮੈਂ ਹੁਣ ਹੋਰ ਨਹੀਂ ਜੀਣਾ ਚਾਹੁੰਦਾ"}
    for locale, words in lines.items():
        lang = locale[:2]
        member = await session.open(server, "oncall", "member", "Q", phone=True, locale=locale, sub=f"q-{lang}",
                                    wait_for_room=False)
        wait = member.locator("#oncall-wait")
        await expect(wait.get_by_role("timer")).to_contain_text(":")
        text = await wait.inner_text()
        assert not english.search(text), text
        box = await wait.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        await shoot(member, f"oncall-member-waiting-{lang}")
        await member.context.close()

        room = f"alert-circle-{lang}"
        fac = await session.open(server, room, "facilitator", "M", phone=True, locale=locale, sub=f"m-{lang}",
                                 wait_for_room=False)
        writer = await session.open(server, room, "member", "R", phone=True, locale=locale, sub=f"r-{lang}",
                                    wait_for_room=False)
        await expect(writer.locator("#chat-input")).to_be_enabled()
        await writer.locator("#chat-input").fill(words)
        await writer.locator("#chat-input").press("Enter")
        attention = fac.locator("#attention")
        await expect(attention).to_be_visible()
        box = await attention.bounding_box()
        assert box is not None and box["y"] < 300 and box["x"] + box["width"] <= 390, box
        text = await attention.inner_text()
        assert not english.search(text), text
        await shoot(fac, f"facilitator-attention-phone-{lang}")
        await writer.context.close()
        await fac.context.close()

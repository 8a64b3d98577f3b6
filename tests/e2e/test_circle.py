"""A circle as people see it: chat, hands, the floor, the lobby, moderation, languages."""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

from tests.support import token

from .conftest import Session, create_room, shoot


def people(page: Page, name: str) -> Locator:
    """The participant list item for ``name``."""
    return page.get_by_role("list", name="Participants").get_by_role("listitem").filter(has_text=name)


def floor(page: Page) -> Locator:
    """The "Sharing now" card: who holds the floor, the timer, my hand."""
    return page.get_by_role("region", name="Sharing now")


async def send(page: Page, text: str) -> None:
    await page.get_by_label("Message").fill(text)
    await page.get_by_role("button", name="Send", exact=True).click()


async def test_chat_queue_and_the_floor_passing_on(server: str, session: Session) -> None:
    room = "tuesday-circle"
    fac = await session.open(server, room, "facilitator", "Meera")
    asha = await session.open(server, room, "member", "Asha", phone=True)
    ravi = await session.open(server, room, "member", "Ravi", phone=True)

    # The facilitator names the circle; everyone's header follows.
    await fac.get_by_text("Room settings").click()
    await fac.get_by_label("Circle name").fill("Tuesday evening circle")
    await fac.get_by_role("button", name="Save settings").click()
    await expect(ravi.get_by_role("heading", level=1)).to_have_text("Tuesday evening circle")
    await fac.get_by_text("Room settings").click()

    # A message typed in one page reaches the others (Enter sends, too).
    await asha.get_by_label("Message").fill("Hello everyone, it is good to be here tonight")
    await asha.get_by_label("Message").press("Enter")
    for page in (fac, ravi):
        await expect(page.get_by_role("region", name="Chat")).to_contain_text("good to be here tonight")
    await send(fac, "Welcome, Asha. Take all the time you need.")
    await expect(asha.get_by_role("region", name="Chat")).to_contain_text("Welcome, Asha")

    # The floor is free: the first raised hand gets it at once, with a share timer.
    await asha.get_by_role("button", name="Raise hand").click()
    await expect(asha.get_by_role("button", name="Finish sharing")).to_be_visible()
    await expect(floor(asha).get_by_text("You have the floor")).to_be_visible()
    await expect(asha.get_by_role("timer")).to_have_text(re.compile(r"\d+:\d\d left"))
    await expect(people(fac, "Asha")).to_contain_text("sharing")

    # Later hands wait in the queue, and each person sees their place in it.
    await ravi.get_by_role("button", name="Raise hand").click()
    queue = fac.get_by_role("list", name="Queue")
    await expect(queue.get_by_role("listitem")).to_have_text([re.compile("Ravi")])
    await expect(ravi.get_by_text("You are 1st in the queue")).to_be_visible()
    await fac.get_by_role("button", name="Raise hand").click()
    await expect(queue.get_by_role("listitem")).to_have_text([re.compile("Ravi"), re.compile("Meera")])
    await expect(fac.get_by_text("You are 2nd in the queue")).to_be_visible()
    await expect(floor(ravi)).to_contain_text("Asha is sharing.")

    await ravi.get_by_role("button", name="Heart").click()
    await expect(fac.get_by_role("region", name="Chat")).to_contain_text("Ravi: Heart")
    await shoot(ravi, "member-phone", docs=True)
    await shoot(asha, "sharing-phone")
    await shoot(fac, "facilitator-desktop", docs=True)

    # The holder finishes: the floor passes by itself to the head of the queue.
    await asha.get_by_role("button", name="Finish sharing").click()
    await expect(floor(ravi).get_by_text("You have the floor")).to_be_visible()
    await expect(people(fac, "Ravi")).to_contain_text("sharing")
    await expect(people(fac, "Asha")).not_to_contain_text("sharing")
    await expect(queue.get_by_role("listitem")).to_have_text([re.compile("Meera")])
    await expect(asha.get_by_role("button", name="Raise hand")).to_be_visible()

    # "Pass" hands the floor on too.
    await ravi.get_by_role("button", name="Pass", exact=True).click()
    await expect(floor(fac).get_by_text("You have the floor")).to_be_visible()
    await expect(queue.get_by_role("listitem")).to_have_count(0)

    # A facilitator can give the floor to anyone, from the participant list.
    await people(fac, "Asha").get_by_role("button", name="Give floor").click()
    await expect(floor(asha).get_by_text("You have the floor")).to_be_visible()
    await expect(people(ravi, "Asha")).to_contain_text("sharing")


async def test_share_timer_warns_gently_and_rounds_take_turns(server: str, session: Session) -> None:
    room = "timed-circle"
    # Ten-second shares with the gentle reminder eight seconds before the end.
    await create_room(server, room, share_seconds=10, warn_seconds=8)
    fac = await session.open(server, room, "facilitator", "Meera")
    asha = await session.open(server, room, "member", "Asha", phone=True)

    await asha.get_by_role("button", name="Raise hand").click()
    await expect(floor(asha).get_by_role("timer")).to_have_text(re.compile(r"0:\d\d left"))
    await expect(floor(asha)).to_contain_text("begin to wrap up whenever you're ready")
    await expect(floor(fac)).to_contain_text("Almost time")
    await expect(asha.locator("#floor-box")).to_have_class(re.compile(r"\bwarn\b"))
    await shoot(asha, "gentle-warning-phone")
    await asha.get_by_role("button", name="Finish sharing").click()
    await expect(floor(fac)).to_contain_text("Nobody is sharing right now.")

    # A round: everyone in join order; someone whose turn is coming may pass ahead.
    await fac.get_by_role("button", name="Start round").click()
    await expect(floor(fac).get_by_text("You have the floor")).to_be_visible()
    await expect(floor(asha)).to_contain_text("A round is going: 1 of 2")
    await expect(floor(asha)).to_contain_text("Your turn is coming")
    await fac.get_by_role("button", name="Finish sharing").click()
    await expect(floor(asha).get_by_text("You have the floor")).to_be_visible()
    await expect(floor(asha)).to_contain_text("A round is going: 2 of 2")
    await asha.get_by_role("button", name="Pass", exact=True).click()
    await expect(floor(fac).get_by_text("A round is going")).to_be_hidden()
    await expect(fac.get_by_role("button", name="Start round")).to_be_visible()


async def test_crisis_words_bring_helplines_and_alert_the_facilitator(server: str, session: Session) -> None:
    room = "support-circle"
    fac = await session.open(server, room, "facilitator", "Meera")
    asha = await session.open(server, room, "member", "Asha", phone=True)

    await send(asha, "Some days I feel like I want to end my life")
    panel = asha.get_by_role("region", name="You don't have to carry this alone")
    await expect(panel).to_be_visible()
    await expect(panel.get_by_role("link", name=re.compile("Tele-MANAS"))).to_have_attribute("href", "tel:14416")
    oncall = panel.get_by_role("link", name="Talk with someone from our on-call team now")
    await expect(oncall).to_have_attribute("href", re.compile(r"^/#room=oncall&token="))
    # Crisis words never block the message: the circle sees it, and can respond.
    await expect(fac.get_by_role("region", name="Chat")).to_contain_text("end my life")
    alerts = fac.get_by_role("list", name="Alerts")
    await expect(alerts).to_contain_text("May need support")
    await expect(alerts).to_contain_text("Asha")
    await shoot(asha, "crisis-phone")
    await panel.get_by_role("button", name="Close this panel").click()
    await expect(panel).to_be_hidden()
    await expect(asha.get_by_label("Message")).to_be_focused()


async def test_a_medical_emergency_puts_the_ambulance_number_first(server: str, session: Session) -> None:
    # Issue 13: in en, hi and pa on a phone, 112 leads and says what it is for.
    lines = {"en-US": ("took way too many pills and now i can't breathe", "call 112 for an ambulance now"),
             "hi-IN": ("बहुत ज़्यादा गोलियाँ खा ली हैं और साँस नहीं आ रही", "112 पर एम्बुलेंस"),
             "pa-IN": ("ਬਹੁਤ ਜ਼ਿਆਦਾ ਗੋਲੀਆਂ ਖਾ ਲਈਆਂ ਤੇ ਸਾਹ ਨਹੀਂ ਆ ਰਿਹਾ", "112 'ਤੇ ਐਂਬੂਲੈਂਸ")}
    fac = await session.open(server, "medical-circle", "facilitator", "Meera", phone=True)
    for locale, (text, says) in lines.items():
        who = "Ravi" + locale[:2]
        member = await session.open(server, "medical-circle", "member", who, phone=True, locale=locale, sub=who,
                                    wait_for_room=False)
        await expect(member.locator("#chat-log")).to_be_visible()
        await member.locator("#chat-input").fill(text)
        await member.locator("#chat-input").press("Enter")
        panel = member.locator("#crisis")
        await expect(panel).to_be_visible()
        await expect(panel.locator("#crisis-medical")).to_contain_text(says)
        await expect(panel.locator("#crisis-lines a").first).to_have_attribute("href", "tel:112")
        await shoot(member, f"crisis-medical-{locale[:2]}")
        await member.context.close()
    # The facilitator on a phone sees it at the top of the screen, not down in the tools.
    attention = fac.locator("#attention")
    await expect(attention).to_be_visible()
    await expect(attention).to_contain_text("May need support")
    box = await attention.bounding_box()
    assert box is not None and box["y"] < 300, box
    await shoot(fac, "facilitator-attention-phone")
    await attention.get_by_role("button", name="Show alerts").click()
    await expect(fac.locator("#alerts button").first).to_be_focused()


async def test_lobby_admit_and_deny(server: str, session: Session) -> None:
    room = "lobby-circle"
    fac = await session.open(server, room, "facilitator", "Meera")
    await fac.get_by_text("Room settings").click()
    await fac.get_by_label("Lobby: facilitators let people in").check()
    await fac.get_by_role("button", name="Save settings").click()
    await expect(fac.get_by_text("Settings saved.")).to_be_visible()

    asha = await session.open(server, room, "member", "Asha", phone=True, wait_for_room=False)
    await expect(asha.get_by_role("heading", name="Waiting for a facilitator to let you in")).to_be_visible()
    await shoot(asha, "lobby-phone")
    lobby = fac.get_by_role("list", name="Waiting to join")
    await lobby.get_by_role("listitem").filter(has_text="Asha").get_by_role("button", name="Admit").click()
    await expect(asha.get_by_role("region", name="Chat")).to_be_visible()
    await expect(people(fac, "Asha")).to_be_visible()
    await expect(lobby.get_by_role("listitem")).to_have_count(0)

    ravi = await session.open(server, room, "member", "Ravi", phone=True, wait_for_room=False)
    await expect(ravi.get_by_role("heading", name="Waiting for a facilitator to let you in")).to_be_visible()
    await lobby.get_by_role("listitem").filter(has_text="Ravi").get_by_role("button", name="Deny").click()
    await expect(ravi.get_by_role("heading", name="You weren't let in this time")).to_be_visible()
    await expect(people(fac, "Ravi")).to_have_count(0)


async def test_held_message_review_and_mute(server: str, session: Session) -> None:
    room = "review-circle"
    fac = await session.open(server, room, "facilitator", "Meera")
    asha = await session.open(server, room, "member", "Asha", phone=True)

    # Links are held for a facilitator's review; the writer is told so, kindly.
    await send(asha, "The steps I follow: https://example.org/steps")
    outbox = asha.get_by_role("list", name="Not sent yet")
    await expect(outbox).to_contain_text("Your message is waiting for a facilitator's review")
    held = fac.get_by_role("list", name="Held for review")
    await expect(held).to_contain_text("example.org/steps")
    await held.get_by_role("listitem").first.get_by_role("button", name="Approve").click()
    await expect(asha.get_by_role("region", name="Chat")).to_contain_text("example.org/steps")
    await expect(fac.get_by_role("region", name="Chat")).to_contain_text("example.org/steps")
    await expect(outbox.get_by_role("listitem")).to_have_count(0)

    # Muting: the member is told, cannot raise a hand, and the facilitator can undo it.
    # Each per-person button says whom it acts on (issue 14).
    await people(fac, "Asha").get_by_role("button", name="Mute: Asha", exact=True).click()
    await expect(people(asha, "Asha")).to_contain_text("muted")
    await expect(asha.get_by_role("button", name="Raise hand")).to_be_disabled()
    await expect(asha.get_by_text("A facilitator has muted you").first).to_be_visible()
    await people(fac, "Asha").get_by_role("button", name="Unmute: Asha").click()
    await expect(asha.get_by_role("button", name="Raise hand")).to_be_enabled()

    # A member can report a message; facilitators see the report as an alert.
    await send(fac, "Thank you for trusting us with that")
    message = asha.get_by_role("region", name="Chat").get_by_role("article").filter(has_text="Thank you for trusting")
    await message.get_by_role("button", name="Report").click()
    dialog = asha.get_by_role("dialog", name="Report this message")
    await dialog.get_by_label("What happened?").fill("Testing the report button")
    await dialog.get_by_role("button", name="Send report").click()
    await expect(dialog).to_be_hidden()
    await expect(fac.get_by_role("list", name="Alerts")).to_contain_text("Testing the report button")

    # A facilitator can remove someone, once they confirm it (it sits beside "Mute");
    # the person is told, and the others see them go.
    await people(fac, "Asha").get_by_role("button", name="Remove: Asha").click()
    confirm = fac.get_by_role("dialog", name="Remove Asha?")
    await confirm.get_by_role("button", name="Cancel").click()
    await expect(people(fac, "Asha")).to_have_count(1)
    await people(fac, "Asha").get_by_role("button", name="Remove: Asha").click()
    await confirm.get_by_role("button", name="Remove").click()
    await expect(asha.get_by_role("heading", name="You have been removed from the circle")).to_be_visible()
    await expect(people(fac, "Asha")).to_have_count(0)


async def test_a_burst_of_messages_is_never_lost(server: str, session: Session) -> None:
    room = "burst-circle"
    fac = await session.open(server, room, "facilitator", "Meera")
    asha = await session.open(server, room, "member", "Asha", phone=True)
    # More than the moderation rate limit lets through in ten seconds (five).
    lines = [f"Line {i} of my check-in" for i in range(1, 8)]
    for line in lines:
        await send(asha, line)
    await expect(asha.get_by_role("list", name="Not sent yet")).to_contain_text("You're writing quickly")
    # Each one arrives once, in the order typed, as the limit lets them through.
    await expect(fac.get_by_role("region", name="Chat").locator(".msg .text")).to_have_text(lines, timeout=25_000)
    await expect(asha.get_by_role("list", name="Not sent yet").get_by_role("listitem")).to_have_count(0)


async def test_expired_link_says_what_to_do(server: str, session: Session) -> None:
    stale = token("any-circle", "member", name="Asha", ttl=-3600)
    page = await session.open(server, "any-circle", "member", "Asha", phone=True, tok=stale, wait_for_room=False)
    await expect(page.get_by_text("This link has expired; ask your facilitator for a new one")).to_be_visible()


async def test_speaks_the_browsers_language_and_switches(server: str, session: Session) -> None:
    room = "hindi-circle"
    await session.open(server, room, "facilitator", "Meera")
    page = await session.open(server, room, "member", "Asha", phone=True, locale="hi-IN", wait_for_room=False)
    await expect(page.get_by_role("button", name="हाथ उठाएँ")).to_be_visible()
    await expect(page.get_by_role("region", name="चैट")).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "hi")
    await shoot(page, "member-phone-hindi")
    await page.get_by_label("भाषा").select_option("pa")
    await expect(page.get_by_role("button", name="ਹੱਥ ਉਠਾਓ")).to_be_visible()
    await page.get_by_label("ਭਾਸ਼ਾ").select_option("en")
    await expect(page.get_by_role("button", name="Raise hand")).to_be_visible()
    await expect(page.get_by_label("Message")).to_be_visible()


FOCUSED_NAME = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "";
  const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
  return (el.getAttribute("aria-label") || label || el.innerText || el.tagName).trim();
}"""


async def tab_to(page: Page, name: str, *, limit: int = 80) -> None:
    """Press Tab (only Tab) until the focused control is called ``name`` and shows a focus
    ring; fail if it never is."""
    seen: list[str] = []
    for _ in range(limit):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(FOCUSED_NAME)
        if focused == name:
            ring = await page.evaluate("() => { const s = getComputedStyle(document.activeElement); "
                                       "return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }")
            assert ring, f"{name!r} has focus but shows no focus ring"
            return
        seen.append(focused)
    raise AssertionError(f"{name!r} is not reachable with Tab; the focus went through {seen}")


async def test_a_meeting_by_keyboard_alone(server: str, session: Session) -> None:
    # Issue 14: everything a member and a facilitator do in a meeting, with Tab, Enter and
    # Escape only: help, hand, chat, the floor passing, a removal confirmed.
    fac = await session.open(server, "keys-circle", "facilitator", "Meera")
    asha = await session.open(server, "keys-circle", "member", "Asha", phone=True)
    # Help first: a few Tab stops from the top of the page.
    await tab_to(asha, "Need help now?", limit=4)
    await asha.keyboard.press("Enter")
    await expect(asha.locator("#crisis")).to_be_visible()
    await expect(asha.locator("#crisis-title")).to_be_focused()
    await tab_to(asha, "Close this panel")
    await asha.keyboard.press("Enter")
    await expect(asha.locator("#crisis")).to_be_hidden()
    # The hand (the floor is free, so it is hers at once), a share finished, a message.
    await tab_to(asha, "Raise hand")
    await asha.keyboard.press("Enter")
    await expect(floor(asha)).to_contain_text("You have the floor")
    await tab_to(asha, "Finish sharing")
    await asha.keyboard.press("Enter")
    await expect(people(fac, "Asha")).not_to_contain_text("sharing")
    await tab_to(asha, "Message")
    await asha.keyboard.type("thank you all for being here")
    await asha.keyboard.press("Enter")
    await expect(fac.get_by_role("region", name="Chat")).to_contain_text("thank you all for being here")
    # The facilitator gives her the floor again from the keyboard.
    await tab_to(fac, "Give floor: Asha")
    await fac.keyboard.press("Enter")
    await expect(floor(asha)).to_contain_text("You have the floor")
    # A removal asks first, with the safe answer focused: Escape keeps her; Tab to
    # "Remove" and Enter removes her.
    dialog = fac.get_by_role("dialog", name="Remove Asha?")
    await tab_to(fac, "Remove: Asha")
    await fac.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    await fac.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(people(fac, "Asha")).to_be_visible()
    await tab_to(fac, "Remove: Asha")
    await fac.keyboard.press("Enter")
    await tab_to(fac, "Remove", limit=3)
    await fac.keyboard.press("Enter")
    await expect(people(fac, "Asha")).to_be_hidden()

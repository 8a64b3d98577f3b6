"""Members serving their meeting, in a real browser (issue 17): the guidelines accepted on
the way in (with "I'm new"), a member made chair who gives the floor, a timekeeper who
adds a minute, a greeter who lets someone in; only staff and greeters see who is new."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from .conftest import Session, create_room, shoot

ROOM = "serving-circle"


async def agree(page: Page, arrival: str | None = None) -> None:
    await expect(page.get_by_role("heading", name="Before you join")).to_be_focused()
    if arrival:
        await page.locator("#consent").get_by_label(arrival).check()
    await page.get_by_role("button", name="I agree: join").click()
    await expect(page.get_by_role("region", name="Chat")).to_be_visible()


async def give_service(fac: Page, name: str, service: str) -> None:
    await fac.get_by_label(f"Service for {name}").select_option(label=service)


async def test_members_serve_the_meeting_after_accepting_its_guidelines(server: str, session: Session) -> None:
    await create_room(server, ROOM, consent=True, share_seconds=120, auto_advance=False)
    fac = await session.open(server, ROOM, "facilitator", "Meera")
    asha = await session.open(server, ROOM, "member", "Asha", phone=True, wait_for_room=False)
    await shoot(asha, "consent-en")
    await agree(asha, "I'm new here")
    await expect(asha.locator("#room-note")).to_have_text(
        "Welcome. Listening is a fine way to take part; share only if you wish.")
    ben = await session.open(server, ROOM, "member", "Ben", wait_for_room=False)
    await agree(ben, "I'm coming back after a while")
    cal = await session.open(server, ROOM, "member", "Cal", wait_for_room=False)
    await agree(cal)

    # Who is new is for the facilitator's eyes: a tag on Asha there, nothing on Ben's page.
    people = fac.get_by_role("list", name=re.compile("In the circle|Participants"))
    await expect(fac.locator("#participants li", has_text="Asha")).to_contain_text("New")
    await expect(fac.locator("#participants li", has_text="Ben")).to_contain_text("Coming back")
    await expect(ben.locator("#participants li", has_text="Asha")).not_to_contain_text("New")
    del people

    # Asha chairs: she gives the floor to the next hand.
    await give_service(fac, "Asha", "Chair")
    await expect(asha.get_by_role("heading", name="You are the chair of this meeting")).to_be_visible()
    await expect(ben.locator("#participants li", has_text="Asha")).to_contain_text("Chair")
    await ben.get_by_role("button", name="Raise hand").click()
    await asha.get_by_role("button", name="Give the floor to the next hand").click()
    await expect(ben.locator("#floor-who")).to_have_text(re.compile("You have the floor"))
    await shoot(asha, "service-chair-en")

    # Cal keeps time: a minute more for Ben's share.
    await give_service(fac, "Cal", "Timekeeper")
    before = await ben.evaluate("() => Number(document.querySelector('#floor-timer').textContent.match(/(\\d+):/)[1])")
    await cal.get_by_role("button", name="Add a minute to this share").click()
    await expect(ben.locator("#floor-timer")).to_have_text(re.compile(rf"\b{before + 1}:\d\d"))
    # The chair has no timekeeper's button, and the timekeeper no chair's.
    await expect(asha.get_by_role("button", name="Add a minute to this share")).to_have_count(0)
    await expect(cal.get_by_role("button", name="Give the floor to the next hand")).to_be_hidden()


async def test_a_greeter_lets_a_newcomer_in(server: str, session: Session) -> None:
    await create_room(server, ROOM, lobby=True)
    fac = await session.open(server, ROOM, "facilitator", "Meera")
    # Gita comes in through the lobby too; Meera lets her in and makes her the greeter.
    gita = await session.open(server, ROOM, "member", "Gita", wait_for_room=False)
    await fac.get_by_role("list", name="Waiting to join").get_by_role("listitem").filter(has_text="Gita") \
        .get_by_role("button", name="Admit").click()
    await expect(gita.get_by_role("region", name="Chat")).to_be_visible()
    await give_service(fac, "Gita", "Greeter")
    await expect(gita.get_by_role("heading", name="You are the greeter of this meeting")).to_be_visible()
    newcomer = await session.open(server, ROOM, "member", "Nikhil", wait_for_room=False)
    await expect(newcomer.get_by_role("heading", name="Waiting for a facilitator to let you in")).to_be_visible()
    door = gita.locator("#svc-lobby li", has_text="Nikhil")
    await door.get_by_role("button", name="Admit").click()
    await expect(newcomer.get_by_role("region", name="Chat")).to_be_visible()
    await expect(gita.locator("#svc-lobby li")).to_have_count(0)
    await shoot(gita, "service-greeter-en")


async def test_the_way_in_and_the_services_in_hindi_and_punjabi(server: str, session: Session) -> None:
    await create_room(server, ROOM, consent=True)
    for locale, title, agree_label in (("hi-IN", "जुड़ने से पहले", "मैं सहमत हूँ: जुड़ें"),
                                       ("pa-IN", "ਜੁੜਨ ਤੋਂ ਪਹਿਲਾਂ", "ਮੈਂ ਸਹਿਮਤ ਹਾਂ: ਜੁੜੋ")):
        page = await session.open(server, ROOM, "member", f"Member {locale}", sub=f"member-{locale[:2]}",
                                  phone=True, locale=locale, wait_for_room=False)
        await expect(page.get_by_role("heading", name=title)).to_be_visible()
        text = await page.locator("#consent").inner_text()
        assert not re.search(r"[A-Za-z]{3,}", text), f"English left in {locale}: {text}"
        await shoot(page, f"consent-{locale[:2]}")
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, width
        await page.get_by_role("button", name=agree_label).click()
        await expect(page.locator("#chat-log")).to_be_visible()
        await page.context.close()

"""The server goes away and comes back: the pages reconnect by themselves, rejoin, and
deliver what was typed meanwhile."""

from __future__ import annotations

from playwright.async_api import expect

from .conftest import ServerProcess, Session, shoot

# A server that drains says so first (server.draining): the pages say it is restarting.
RESTARTING = {"en-US": "The server is restarting — reconnecting…",
              "hi-IN": "सर्वर फिर से शुरू हो रहा है — फिर से जुड़ रहे हैं…",
              "pa-IN": "ਸਰਵਰ ਮੁੜ ਸ਼ੁਰੂ ਹੋ ਰਿਹਾ ਹੈ — ਦੁਬਾਰਾ ਜੁੜ ਰਹੇ ਹਾਂ…"}
OFFLINE = RESTARTING["en-US"]
# Socket.IO backs off up to a few seconds between tries, and a member whose circle is
# not open yet knocks again every 2.5 s: give the whole recovery this long.
RECOVER_MS = 25_000


async def test_pages_rejoin_after_a_restart_and_deliver_the_offline_message(
        server_process: ServerProcess, session: Session) -> None:
    room = "restart-circle"
    await server_process.start()
    base = server_process.url
    fac = await session.open(base, room, "facilitator", "Meera")
    asha = await session.open(base, room, "member", "Asha", phone=True)
    await asha.get_by_label("Message").fill("Said before the restart")
    await asha.get_by_role("button", name="Send", exact=True).click()
    await expect(fac.get_by_role("region", name="Chat")).to_contain_text("Said before the restart")

    # A deploy: the server is told to stop, tells every client it is restarting and says
    # goodbye. (Its own shutdown may linger; the pages must not wait for that.)
    server_process.terminate()
    for page in (fac, asha):
        await expect(page.get_by_role("status").filter(has_text=OFFLINE)).to_be_visible()
    await server_process.stop(grace_s=1.0)

    # Typed while offline: it waits in memory, visibly, and is not lost.
    await asha.get_by_label("Message").fill("Typed while the server was away")
    await asha.get_by_role("button", name="Send", exact=True).click()
    outbox = asha.get_by_role("list", name="Not sent yet")
    await expect(outbox).to_contain_text("Typed while the server was away")
    await shoot(asha, "offline-phone")

    # The same port again. The embedded store forgot the room: the facilitator's page
    # rejoining creates it anew, and the member's page gets in after that.
    await server_process.start()
    for page in (fac, asha):
        await expect(page.get_by_role("status").filter(has_text=OFFLINE)).to_have_count(0, timeout=RECOVER_MS)
    await expect(fac.get_by_role("region", name="Chat")).to_contain_text(
        "Typed while the server was away", timeout=RECOVER_MS)
    await expect(outbox.get_by_role("listitem")).to_have_count(0)
    await expect(fac.get_by_role("list", name="Participants")).to_contain_text("Asha")
    # The member is told what the restart took with it (issue 14): not only messages.
    await expect(asha.locator("#room-note")).to_contain_text("the queue and the current share are gone")

    # And the circle goes on.
    await fac.get_by_label("Message").fill("Welcome back, everyone")
    await fac.get_by_role("button", name="Send", exact=True).click()
    await expect(asha.get_by_role("region", name="Chat")).to_contain_text("Welcome back, everyone")
    await asha.get_by_role("button", name="Raise hand").click()
    await expect(fac.get_by_role("list", name="Participants").get_by_role("listitem").filter(has_text="Asha")) \
        .to_contain_text("sharing")


async def test_a_draining_server_is_explained_in_each_language(server_process: ServerProcess,
                                                                 session: Session) -> None:
    room = "restart-words"
    await server_process.start()
    base = server_process.url
    await session.open(base, room, "facilitator", "Meera")
    chat = {"hi-IN": "चैट", "pa-IN": "ਚੈਟ"}
    pages = {}
    for i, locale in enumerate(chat):
        pages[locale] = await session.open(base, room, "member", f"M{i}", phone=True, locale=locale,
                                           wait_for_room=False)
        await expect(pages[locale].get_by_role("region", name=chat[locale])).to_be_visible()
    server_process.terminate()
    for locale, page in pages.items():
        await expect(page.get_by_role("status").filter(has_text=RESTARTING[locale])).to_be_visible()
        await shoot(page, f"restarting-{locale[:2]}")
    await server_process.stop(grace_s=1.0)

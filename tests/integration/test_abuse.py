"""Issue 12: what one bad link holder could do, tried again with real clients.

Each test reproduces one numbered item of the issue the way it was found (a member or
facilitator link, real Socket.IO clients, both stores) and asserts that it no longer works.
"""

from __future__ import annotations

from typing import Any

from server.core import commands as c
from server.core.model import LOG_KEPT
from server.gateway import keys
from tests.integration.conftest import Running
from tests.integration.test_oncall import ONCALL, Receiver, oncall_server, receiver  # noqa: F401 (fixtures)
from tests.support import Client


async def test_deleted_text_never_comes_back_after_a_second_delete(server: Running) -> None:
    # Item 4: the deleted list was cut to 1000 events while the stores keep 2000; after a
    # second delete a new joiner's snapshot and `since` replay showed the original text.
    room = "delete-room"
    fac = await server.client(room, "facilitator", "Fay")
    ana = await server.client(room, "member", "Ana")
    sent = await ana.call("chat.send", {"room": room, "text": "my address is something private"})
    first = sent["event"]["seq"]
    assert (await fac.call("chat.delete", {"room": room, "seq": first}))["ok"]
    service = server.app[keys.SERVICE]
    actor = c.Actor("Ana", "Ana", "member", "")
    for _ in range(LOG_KEPT // 2 + 50):
        await service.execute(room, actor, c.Reaction(kind="clap"))
    later = await ana.call("chat.send", {"room": room, "text": "and this one too"})
    assert (await fac.call("chat.delete", {"room": room, "seq": later["event"]["seq"]}))["ok"]

    newcomer = await server.client(room, "member", "Sam", join=False)
    ack = await newcomer.join(room, since=first - 1)
    texts = [e["data"].get("text") for e in ack["room"]["recent"] + ack.get("missed", [])
             if e["type"] == "chat.message"]
    assert "my address is something private" not in texts
    assert "and this one too" not in texts


async def private_room(server: Running) -> tuple[str, str, str]:
    """A responder opens a private room for Mina; returns (room, Mina's token, Ravi's token)."""
    member = await server.client(ONCALL, "member", "Mina")
    responder = await server.client(ONCALL, "responder", "Ravi")
    ack = await responder.call("oncall.private", {"room": ONCALL, "participant": "Mina"})
    assert ack["ok"], ack
    moved = await member.wait_private("oncall.moved")
    mine = await responder.wait_private("oncall.moved")
    return ack["room"], moved["token"], mine["token"]


async def test_a_private_room_pages_nobody_and_admits_only_its_two_people(
        oncall_server: Running, receiver: Receiver) -> None:  # noqa: F811 (fixtures)
    # Item 6: the member opened it before the responder; every on-duty responder was
    # paged with its id, after the timeout all facilitators and the webhook; a `*`
    # facilitator could join the locked room and read the disclosure.
    srv = oncall_server
    room, mina_token, _ = await private_room(srv)
    on_duty = await srv.client("elsewhere", "responder", "Rita", join=False)
    assert (await on_duty.call("oncall.duty", {"on": True}))["ok"]
    roaming = await srv.client("*", "facilitator", "Fay", join=False)
    mina = Client(srv.url, mina_token)
    srv.clients.append(mina)
    await mina.connect()
    await mina.join(room)
    assert (await mina.call("chat.send", {"room": room, "text": "I need to tell someone"}))["ok"]
    await srv.clock.advance(10 * 60_000)
    await srv.app[keys.SERVICE].tick(room)
    for intruder in (roaming, on_duty):
        ack = await intruder.call("join", {"room": room})
        assert not ack["ok"] and ack["error"]["code"] == "forbidden", ack
    # What would have reached them came before these acks (one connection, in order).
    pages: list[tuple[str, Any]] = [(n, d) for who in (on_duty, roaming) for n, d in who.private
                                    if n.startswith("oncall.")]
    assert pages == []
    assert not any(call[0].get("room") == room for call in receiver.calls)

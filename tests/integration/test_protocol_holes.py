"""What the protocol fuzzer (bench/fuzz.py) found, each tried again over a raw websocket.

Every frame here used to make the server log an error with a traceback (python-engineio
or python-socketio raising on it), hold state for a client, answer with ``internal``, or
act on it as something it is not. Now a frame or packet no Socket.IO client sends closes
that connection (``circles_disconnects_total{reason="bad_packet"}``), a bad payload gets
an ``invalid`` ack, and the log stays clean. The server keeps serving throughout.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from server.gateway import keys
from server.gateway.limits import Limits
from server.metrics import Metrics
from tests.integration.conftest import Running
from tests.support import token

ROOM = "holes"


@asynccontextmanager
async def raw(server: Running, tok: str | None = None, *, connect: bool = True,
              ) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A websocket that did the Engine.IO open and (``connect``) the Socket.IO CONNECT."""
    async with aiohttp.ClientSession() as http, http.ws_connect(
            f"{server.url}/socket.io/?EIO=4&transport=websocket") as ws:
        assert (await ws.receive_str(timeout=5)).startswith("0")
        if connect:
            await ws.send_str("40" + json.dumps({"token": tok or token(ROOM, "facilitator", sub="fay")}))
            assert (await ws.receive_str(timeout=5)).startswith("40{")
        yield ws


async def answer(ws: aiohttp.ClientWebSocketResponse, ack_id: int) -> dict[str, object]:
    """The ack with this id (pings are answered on the way)."""
    while True:
        text = await ws.receive_str(timeout=5)
        if text == "2":
            await ws.send_str("3")
        elif text.startswith(f"43{ack_id}["):
            got: dict[str, object] = json.loads(text[len(f"43{ack_id}"):])[0]
            return got


async def closed(ws: aiohttp.ClientWebSocketResponse) -> bool:
    """Whether the server closes this websocket (everything before the close is read)."""
    while True:
        msg = await ws.receive(timeout=5)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING,
                        aiohttp.WSMsgType.ERROR):
            return True


async def still_serves(server: Running) -> None:
    async with raw(server) as ws:
        await ws.send_str(f'4291["join",{{"room":"{ROOM}"}}]')
        assert (await answer(ws, 91))["ok"] is True


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()[:80]}" for r in caplog.records if r.levelno >= logging.ERROR]


def bad_packets(server: Running) -> float:
    metrics: Metrics = server.app[keys.METRICS]
    return metrics.registry.get_sample_value("circles_disconnects_total", {"reason": "bad_packet"}) or 0.0


ENGINEIO_GARBAGE = [
    "",                      # Engine.IO: "Invalid empty packet received", from aiohttp's request handler
    "x1",                    # an unknown packet type: ValueError, the same
    "9",                     # a type past the last: IndexError, "Unknown receive error"
    "\u0663",                # an Arabic-Indic three, which int() reads as 3
    "b%%%",                  # base64 of Engine.IO v3
    "2" + "[" * 5000,        # JSON nested past the decoder's stack, at the Engine.IO level
    "4[" + "[" * 5000,
    "4{not json",
]


@pytest.mark.parametrize("frame", ENGINEIO_GARBAGE, ids=range(len(ENGINEIO_GARBAGE)))
async def test_an_engineio_frame_that_cannot_be_read_closes_the_connection_quietly(
        server: Running, caplog: pytest.LogCaptureFixture, frame: str) -> None:
    async with raw(server) as ws:
        await ws.send_str(frame)
        assert await closed(ws)
    await still_serves(server)
    assert bad_packets(server) == 1
    assert not errors(caplog)


SOCKETIO_GARBAGE = [
    "47[]",                                    # an unknown Socket.IO packet type
    "4x",
    "44" + json.dumps({"message": "x"}),       # CONNECT_ERROR, which only a server sends
    "42" + "1" * 101 + '["join"]',             # an ack id over 100 digits
    "4212345678901-[\"join\"]",                # "too many attachments"
    "42" + json.dumps({"not": "an array"}),    # an event that is not [name, ...]
    "42[]",
    "42/elsewhere,[\"join\",{}]",              # an event to a namespace it never connected
    "451-[\"join\",{\"_placeholder\":true,\"num\":0}]",   # a binary event: its attachment never comes
]


@pytest.mark.parametrize("frame", SOCKETIO_GARBAGE, ids=range(len(SOCKETIO_GARBAGE)))
async def test_a_socketio_packet_no_client_sends_closes_the_connection_quietly(
        server: Running, caplog: pytest.LogCaptureFixture, frame: str) -> None:
    async with raw(server) as ws:
        await ws.send_str(frame)
        assert await closed(ws)
    await still_serves(server)
    assert bad_packets(server) == 1
    assert not errors(caplog)
    # Nothing the client wrote reaches the log, a namespace included.
    assert "elsewhere" not in caplog.text


@pytest.mark.parametrize("frame", [b'42["join",{"room":"holes"}]', b"\x00\xff\xfe", b"4"])
async def test_a_binary_frame_closes_the_connection(server: Running, caplog: pytest.LogCaptureFixture,
                                                    frame: bytes) -> None:
    # A binary event with its attachment: the placeholder became bytes in the payload, and
    # the handler answered `internal` (json.dumps of bytes) with an error in the log.
    async with raw(server) as ws:
        await ws.send_str('451-["chat.send",{"room":"holes","text":{"_placeholder":true,"num":0}}]')
        await ws.send_bytes(frame)
        assert await closed(ws)
    async with raw(server) as ws:
        await ws.send_bytes(frame)
        assert await closed(ws)
    await still_serves(server)
    assert not errors(caplog)


async def test_an_event_before_connecting_closes_the_connection(server: Running,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    async with raw(server, connect=False) as ws:
        await ws.send_str('421["join",{"room":"holes"}]')
        assert await closed(ws)
    assert not errors(caplog) and "not connected" not in caplog.text


@pytest.mark.parametrize("text", ['{"room":"holes"', '{"room":"holes",}', "[1,2", '{"room":"holes"}x',
                                  '{"room":"holes","since":' + "1" * 5000 + "}"])
async def test_an_event_whose_json_cannot_be_read_gets_an_invalid_ack(server: Running,
                                                                       caplog: pytest.LogCaptureFixture,
                                                                       text: str) -> None:
    # It was dropped unanswered, with a JSONDecodeError (or, past 4300 digits, a
    # ValueError) and its traceback in the log.
    async with raw(server) as ws:
        await ws.send_str('425["join",' + text + "]")
        ack = await answer(ws, 5)
        assert ack["ok"] is False and ack["error"] == {"code": "invalid", "message": "the packet is not valid JSON"}
        await ws.send_str(f'426["join",{{"room":"{ROOM}"}}]')
        assert (await answer(ws, 6))["ok"] is True
    assert not errors(caplog)


@pytest.mark.parametrize("name", ["connect", "disconnect", "*", 7, None, ["join"], {"a": 1}])
async def test_an_event_named_like_a_lifecycle_hook_or_not_a_string_is_an_unknown_event(
        server: Running, caplog: pytest.LogCaptureFixture, name: object) -> None:
    # "disconnect" ran the disconnect handler: the socket stayed open but the server
    # forgot it (and its place in the per-person and per-address connection counts);
    # "connect" ran the connect handler with the client's own "environ"; "*" called the
    # catch-all with the wrong arguments; a list or object as the name raised TypeError.
    async with raw(server) as ws:
        await ws.send_str("427" + json.dumps([name, {"token": token(ROOM, sub="x")}]))
        ack = await answer(ws, 7)
        assert ack == {"ok": False, "error": {"code": "invalid", "message": "unknown event"}}
        await ws.send_str(f'428["join",{{"room":"{ROOM}"}}]')
        assert (await answer(ws, 8))["ok"] is True
    assert not errors(caplog)


async def test_an_event_named_disconnect_does_not_free_a_connection_slot(server: Running) -> None:
    tok = token(ROOM, sub="many")
    async with aiohttp.ClientSession() as http:
        sockets = []
        for i in range(Limits().person_conns):
            ws = await http.ws_connect(f"{server.url}/socket.io/?EIO=4&transport=websocket")
            sockets.append(ws)
            assert (await ws.receive_str(timeout=5)).startswith("0")
            await ws.send_str("40" + json.dumps({"token": tok}))
            assert (await ws.receive_str(timeout=5)).startswith("40{")
            await ws.send_str(f'42{i}["disconnect"]')
            assert (await answer(ws, i))["ok"] is False
        one_more = await http.ws_connect(f"{server.url}/socket.io/?EIO=4&transport=websocket")
        assert (await one_more.receive_str(timeout=5)).startswith("0")
        await one_more.send_str("40" + json.dumps({"token": tok}))
        refused = await one_more.receive_str(timeout=5)
        assert refused.startswith("44") and "rate_limited" in refused
        for ws in [*sockets, one_more]:
            await ws.close()


@pytest.mark.parametrize("event,payload", [
    ("chat.send", {"room": ROOM, "text": "\ud800 half a pair"}),
    ("join", {"room": ROOM, "since": 1, "arrival": "new\udfff"}),
    ("report", {"room": ROOM, "reason": "\udc00"}),
    ("room.settings", {"room": ROOM, "title": "Tuesday \ud83d"}),
    ("chat.send", {"room": ROOM, "text": "hello", "client_id": "\ud800"}),
    ("milestone.share", {"room": ROOM, "days": 30, "note": "\udbff"}),
    ("participant.remove", {"room": ROOM, "participant": "nobody", "reason": "\ud800"}),
])
async def test_a_lone_surrogate_in_a_payload_is_invalid(server: Running, caplog: pytest.LogCaptureFixture,
                                                        event: str, payload: dict[str, object]) -> None:
    # JSON can carry "\ud800"; no UTF-8 frame can: a message with one would fail every
    # send of it to the room. (Not a hole: the schemas refuse it in every string field;
    # kept so that it stays so.)
    async with raw(server) as ws:
        await ws.send_str(f'421["join",{{"room":"{ROOM}"}}]')
        assert (await answer(ws, 1))["ok"] is True
        await ws.send_str("422" + json.dumps([event, payload]))  # ensure_ascii: the escape, as a client sends it
        ack = await answer(ws, 2)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid", ack  # type: ignore[index]
        await ws.send_str(f'423["chat.send",{{"room":"{ROOM}","text":"still fine"}}]')
        assert (await answer(ws, 3))["ok"] is True
    assert not errors(caplog)


def test_a_garbage_collection_at_the_bottom_of_a_deep_stack_is_not_a_traceback() -> None:
    # A collection that starts while a payload thousands deep is decoded runs the
    # metrics callback with no stack left: it printed "Exception ignored in ...
    # RecursionError" and a traceback to stderr, outside the JSON log.
    callback = Metrics().gc_callback()
    unraisable: list[object] = []
    hook, threshold = sys.unraisablehook, gc.get_threshold()
    sys.unraisablehook = lambda u: unraisable.append(u.exc_type)
    gc.callbacks.append(callback)
    gc.set_threshold(1)  # a collection at (nearly) every allocation: at every depth
    try:
        limit = sys.getrecursionlimit()
        for depth in range(limit - 120, limit + 10):
            try:
                json.loads("[" * depth + "]" * depth)
            except RecursionError:
                pass
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(callback)
        sys.unraisablehook = hook
    assert not unraisable


async def test_the_server_keeps_serving_everyone_while_one_socket_sends_garbage(server: Running) -> None:
    await server.client(ROOM, "facilitator", "Fay")
    member = await server.client(ROOM, "member", "Ana")
    async with raw(server) as ws:
        await ws.send_str(SOCKETIO_GARBAGE[5])
        assert await closed(ws)
    ack = await member.call("chat.send", {"room": ROOM, "text": "hello"})
    assert ack["ok"]


async def test_a_closed_connection_keeps_no_ping_timer_alive(server: Running) -> None:
    # Engine.IO slept 20 s in a task per socket before each ping, holding the closed
    # socket, its websocket and request handler: a client reconnecting fast (closed for
    # a bad packet each time) kept thousands alive, RSS +130 MB in a minute.
    for _ in range(10):
        async with raw(server) as ws:
            await ws.send_str("4x")
            assert await closed(ws)

    def pinging() -> list[asyncio.Task[object]]:
        return [t for t in asyncio.all_tasks() if getattr(t.get_coro(), "__qualname__", "") == "AsyncSocket._send_ping"]

    async def none_left() -> None:
        while pinging():  # noqa: ASYNC110 (nothing announces a task's end to others)
            await asyncio.sleep(0.01)
    await asyncio.wait_for(none_left(), 5)

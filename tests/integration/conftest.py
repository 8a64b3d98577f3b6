"""A real Circles app on a real port (pytest-aiohttp), driven by real Socket.IO clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from server.app import create_app
from server.clock import ManualClock
from server.config import Config
from tests.support import ADMIN_KEY, SECRET, Client, token


@dataclass
class Running:
    url: str
    app: web.Application
    clock: ManualClock
    clients: list[Client] = field(default_factory=list)

    async def client(self, room: str, role: str = "member", name: str | None = None, *,
                     join: bool = True, sub: str | None = None) -> Client:
        c = Client(self.url, token(room, role, name=name, sub=sub), name=name or role)
        self.clients.append(c)
        await c.connect()
        if join:
            await c.join(room)
        return c


MakeServer = Callable[..., Awaitable[Running]]


@pytest.fixture
async def make_server(aiohttp_server: Any) -> AsyncIterator[MakeServer]:
    running: list[Running] = []

    async def make(**overrides: Any) -> Running:
        clock = overrides.pop("clock", None) or ManualClock()
        overrides.setdefault("moderation", {"pipeline": ["rate_limit", "contact_details", "links", "blocked_terms"]})  # TEMP
        config = Config(secret=SECRET, admin_key=ADMIN_KEY, **overrides)
        app = create_app(config, clock=clock)
        srv = await aiohttp_server(app, host="127.0.0.1")
        r = Running(url=f"http://127.0.0.1:{srv.port}", app=app, clock=clock)
        running.append(r)
        return r

    yield make
    for r in running:
        for c in r.clients:
            await c.close()


@pytest.fixture
async def server(make_server: MakeServer) -> Running:
    return await make_server()

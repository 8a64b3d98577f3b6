"""A real Circles app on a real port (pytest-aiohttp), driven by real Socket.IO clients.

Every test that uses ``server`` or ``make_server`` runs twice: on the memory store and on
the Redis store (a real redis-server of the tests' own; see tests/redis_server.py).
``CIRCLES_TEST_STORES=memory`` (or ``redis``) runs one only.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from server.app import create_app
from server.clock import ManualClock
from server.config import Config
from server.store.redis import RedisStore
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

STORES = [s.strip() for s in os.environ.get("CIRCLES_TEST_STORES", "memory,redis").split(",") if s.strip()]


@pytest.fixture(params=STORES)
async def make_server(request: pytest.FixtureRequest, aiohttp_server: Any) -> AsyncIterator[MakeServer]:
    running: list[Running] = []
    # Each server of a test gets a Redis database of its own, as each gets its own memory.
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None

    async def make(**overrides: Any) -> Running:
        clock = overrides.pop("clock", None) or ManualClock()
        if redis_url is not None and "store" not in overrides:
            overrides["store"] = RedisStore.from_url(f"{redis_url.rsplit('/', 1)[0]}/{len(running)}")
        store = overrides.pop("store", None)
        direct_write = overrides.pop("direct_write", True)
        config = Config(secret=SECRET, admin_key=ADMIN_KEY, **overrides)
        app = create_app(config, clock=clock, store=store, direct_write=direct_write)
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

"""Test helpers: a real Socket.IO client that records what it receives, and token minting.

Waiting is event-driven: ``wait_for`` sleeps on a condition that every received packet
notifies, never on a fixed delay.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable
from typing import Any

import jwt
import socketio

SECRET = "test-secret-0123456789abcdef-0123456789"
ADMIN_KEY = "test-admin-key-that-is-long-enough-0123"
WAIT_S = 5.0


def token(room: str, role: str = "member", name: str | None = None, sub: str | None = None,
          ttl: int = 600, secret: str = SECRET, **extra: Any) -> str:
    now = int(time.time())
    claims = {"sub": sub or name or role, "name": name or sub or role, "role": role, "room": room,
              "iat": now, "exp": now + ttl, **extra}
    return jwt.encode(claims, secret, algorithm="HS256")


class Client:
    """One person's connection: records room events (per room) and private events."""

    def __init__(self, url: str, tok: str, name: str = "") -> None:
        self.url = url
        self.tok = tok
        self.name = name
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[dict[str, Any]] = []
        self.private: list[tuple[str, dict[str, Any]]] = []
        self.connect_error: Any = None
        self._changed = asyncio.Condition()

        @self.sio.on("room.event")
        async def _event(data: dict[str, Any]) -> None:
            await self._record(lambda: self.events.append(data))

        @self.sio.on("*")
        async def _any(event: str, data: Any = None) -> None:
            await self._record(lambda: self.private.append((event, data)))

        @self.sio.on("connect_error")
        async def _err(data: Any) -> None:
            self.connect_error = data

    async def _record(self, add: Callable[[], None]) -> None:
        async with self._changed:
            add()
            self._changed.notify_all()

    async def connect(self, headers: dict[str, str] | None = None) -> Client:
        await self.sio.connect(self.url, auth={"token": self.tok}, transports=["websocket"],
                               headers=headers or {}, wait_timeout=5)
        return self

    async def try_connect(self, headers: dict[str, str] | None = None) -> bool:
        try:
            await self.connect(headers)
            return True
        except socketio.exceptions.ConnectionError:
            return False

    async def call(self, event: str, payload: Any = None, timeout: float = WAIT_S) -> Any:
        return await self.sio.call(event, payload, timeout=timeout)

    async def join(self, room: str, since: int | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"room": room}
        if since is not None:
            payload["since"] = since
        ack = await self.call("join", payload)
        assert ack["ok"], ack
        return ack  # type: ignore[no-any-return]

    async def wait_for(self, pred: Callable[[], Any], timeout: float = WAIT_S) -> Any:
        async def _wait() -> Any:
            async with self._changed:
                while True:
                    got = pred()
                    if got:
                        return got
                    await self._changed.wait()
        return await asyncio.wait_for(_wait(), timeout)

    async def wait_event(self, type_: str, pred: Callable[[dict[str, Any]], bool] = lambda e: True,
                         timeout: float = WAIT_S) -> dict[str, Any]:
        return await self.wait_for(  # type: ignore[no-any-return]
            lambda: next((e for e in self.events if e["type"] == type_ and pred(e)), None), timeout)

    async def wait_private(self, name: str, timeout: float = WAIT_S) -> dict[str, Any]:
        return await self.wait_for(  # type: ignore[no-any-return]
            lambda: next((d for n, d in self.private if n == name), None), timeout)

    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    def seqs(self, room: str | None = None) -> list[int]:
        return [e["seq"] for e in self.events if room is None or e["room"] == room]

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


def assert_contiguous(seqs: list[int]) -> None:
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True, seqs


def require_tool(name: str, package: str) -> str:
    """The path of command ``name``; without it the test is skipped, and fails under CI
    (where scripts/setup.sh --test must have installed Debian's ``package``)."""
    import pytest

    found = shutil.which(name)
    if found is None:
        message = f"{name} is missing: scripts/setup.sh --test installs {package}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found

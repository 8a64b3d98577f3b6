"""Clocks: the real one, and one that tests move by hand (Synapse style)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...

    async def sleep_until(self, at_ms: int) -> None: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def sleep_until(self, at_ms: int) -> None:
        delay = (at_ms - self.now_ms()) / 1000
        if delay > 0:
            await asyncio.sleep(delay)


class ManualClock:
    """Time stands still until a test calls ``advance``; sleepers wake in order."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now = start_ms
        self._sleepers: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now_ms(self) -> int:
        return self._now

    async def sleep_until(self, at_ms: int) -> None:
        if at_ms <= self._now:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (at_ms, next(self._order), fut))
        await fut

    async def advance(self, ms: int) -> None:
        """Move time forward, waking every sleeper whose moment has come."""
        self._now += ms
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)
        # Let the woken tasks run before the test looks at what they did.
        for _ in range(5):
            await asyncio.sleep(0)

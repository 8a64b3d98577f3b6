"""Clocks: the real one, and one that tests move by hand (Synapse style).

Every timer of the server's logic goes through its clock: ``sleep_until`` for loops,
``call_later`` for one-shot callbacks (cancel the handle it returns).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now_ms(self) -> int: ...

    async def sleep_until(self, at_ms: int) -> None: ...

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> Timer: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def sleep_until(self, at_ms: int) -> None:
        delay = (at_ms - self.now_ms()) / 1000
        if delay > 0:
            await asyncio.sleep(delay)

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(delay_ms / 1000, callback)


class _ManualTimer:
    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback: Callable[[], None] | None = callback

    def cancel(self) -> None:
        self.callback = None


class ManualClock:
    """Time stands still until a test calls ``advance``; sleepers wake in order."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now = start_ms
        self._sleepers: list[tuple[int, int, asyncio.Future[None] | _ManualTimer]] = []
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

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> Timer:
        timer = _ManualTimer(callback)
        heapq.heappush(self._sleepers, (self._now + max(0, delay_ms), next(self._order), timer))
        return timer

    async def advance(self, ms: int) -> None:
        """Move time forward, waking every sleeper and firing every timer whose moment has come."""
        self._now += ms
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, due = heapq.heappop(self._sleepers)
            if isinstance(due, _ManualTimer):
                if due.callback is not None:
                    due.callback()
            elif not due.done():
                due.set_result(None)
        # Let the woken tasks run before the test looks at what they did.
        for _ in range(5):
            await asyncio.sleep(0)

"""A set of background tasks that one owner starts and, on shutdown, cancels and awaits.

Every long-lived object that starts tasks (the gateway's post-ack work, the media hub and
router, the pager, the cluster's loops, the app's scheduler) holds one ``TaskSet``, so that
none is left running after its owner has gone and none is garbage-collected mid-flight
(asyncio keeps only weak references to tasks).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger("circles.tasks")

T = TypeVar("T")


class TaskSet:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def __len__(self) -> int:
        return len(self._tasks)

    async def wait(self) -> None:
        """Until every task now in the set has finished (failures are not raised)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def cancel_all(self, within_s: float = 5.0) -> None:
        """Cancel every task and await it. Cancels again while one still runs: a library
        that swallows a cancellation (Python 3.11's ``wait_for`` can) must not hang a
        shutdown. A task that had failed is logged by name."""
        tasks = list(self._tasks)
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            pending = [t for t in tasks if not t.done()]
            if not pending:
                break
            for t in pending:
                t.cancel()
            await asyncio.wait(pending, timeout=0.1)
        for t in tasks:
            if t.done() and not t.cancelled() and t.exception() is not None:
                log.error("background task failed", extra={"event": t.get_name()})


async def every(seconds: float, step: Callable[[], Awaitable[Any]], what: str,
                expected: tuple[type[BaseException], ...] = ()) -> None:
    """Forever: wait ``seconds``, then ``step()``. An ``expected`` error (the store is
    away: something else says so) is passed over; any other is logged as ``what`` failed.
    Either way the loop goes on."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await step()
        except expected:
            pass
        except Exception:
            log.exception("%s failed", what)

"""Fires room timers (share warnings and expiries, reconnect grace) when they fall due.

A deadline is not a callback: it is a time the store holds beside the room's state
(``rules.next_deadline``), and firing it is an ordinary ``Tick`` command that commits
through the service. A tick that two workers run at once commits once (the store
refuses the stale write, and the retry finds nothing due), so each warning or expiry
happens exactly once however many schedulers watch the same store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from .clock import Clock
from .core.errors import CommandError
from .store import Store, StoreUnavailable

log = logging.getLogger("circles.scheduler")

Fire = Callable[[str], Awaitable[None]]


class Scheduler:
    def __init__(self, store: Store, clock: Clock, poll_ms: int = 1000) -> None:
        self._store = store
        self._clock = clock
        # Other workers may set deadlines this one does not hear of; look that often.
        self._poll_ms = poll_ms
        self._poked = asyncio.Event()

    def poke(self, deadline: int | None = None) -> None:
        """A commit set ``deadline`` (None: no deadline): look again now rather than at
        the next poll."""
        if deadline is not None:
            self._poked.set()

    async def run_once(self, fire: Fire) -> None:
        for room in await self._store.due_rooms(self._clock.now_ms()):
            try:
                await fire(room)
            except CommandError as e:
                # The store went away between the look and the fire (``unavailable``), or
                # the room ended meanwhile: its deadline is still there, due next time.
                log.warning("timer not fired yet", extra={"room": room, "code": e.code})
            except Exception:  # one room's failure must not stop the others' timers
                log.exception("timer failed", extra={"room": room})

    async def run(self, fire: Fire) -> None:
        """Forever: ``fire(room)`` (the service's tick) for each room whose deadline is due."""
        while True:
            self._poked.clear()
            try:
                await self.run_once(fire)
                nxt = await self._store.next_due()
            except StoreUnavailable:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # A store timeout racing our cancellation must not swallow it.
                    raise asyncio.CancelledError from None
                nxt = None
            now = self._clock.now_ms()
            wake = now + self._poll_ms if nxt is None else min(nxt, now + self._poll_ms)
            sleeper = asyncio.ensure_future(self._clock.sleep_until(wake))
            poked = asyncio.ensure_future(self._poked.wait())
            try:
                await asyncio.wait({sleeper, poked}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                poked.cancel()

"""Telling this worker's clients that it has lost its store, and letting them go elsewhere.

A worker cut off from Redis but not from its clients can do nothing for them: every
command answers ``unavailable`` (within the store's operation timeout) and other
workers' events do not reach it. Its clients are told so (the private event
``server.status``, docs/protocol.md §4), and if it lasts, their sockets are closed so
that they reconnect, through the load balancer, to a worker that has its store, and
rejoin with ``since`` (nothing is lost: the log is in Redis). When the store is back and
the bus has read again what was committed meanwhile, the clients still here are told
``{state: "ok"}``.

The heartbeat (every second, ``presence.py``) is the probe: ``failed`` and ``succeeded``
after each beat, then ``check``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Final

from ..delivery import LocalDelivery

log = logging.getLogger("circles.cluster")

# The store has not answered for this long (a beat that began this long ago failed):
# clients are told. A beat that fails fails within the operation timeout (1.5 s), so
# clients hear of a silent store within about 2.5 s of it going quiet, of a refusing
# one within about 1-2 s.
DEGRADED_AFTER_S: Final = 1.0
# A client told this long ago, with the store still away, is let go (its socket closed):
# it reconnects and, behind a load balancer or ``--workers``, most likely lands on a
# worker that has its store.
DROP_AFTER_S: Final = 8.0
EVENT: Final = "server.status"


class StoreStatus:
    def __init__(self, delivery: LocalDelivery[Any], caught_up: Callable[[], bool],
                 clock: Callable[[], float] = time.monotonic, wall_ms: Callable[[], int] | None = None) -> None:
        self.delivery = delivery
        self.caught_up = caught_up
        self.clock = clock
        self.wall_ms = wall_ms or (lambda: int(time.time() * 1000))
        self.lost_since: float | None = None
        self.lost_at_ms = 0
        self.degraded = False
        self._told: dict[str, float] = {}  # sid -> when told "degraded"

    def failed(self, started: float) -> None:
        """A store operation that began at ``started`` (``clock``) failed."""
        if self.lost_since is None:
            self.lost_since = started
            self.lost_at_ms = self.wall_ms() - int((self.clock() - started) * 1000)

    def succeeded(self) -> None:
        self.lost_since = None

    async def check(self) -> None:
        now = self.clock()
        if self.lost_since is not None and now - self.lost_since >= DEGRADED_AFTER_S:
            if not self.degraded:
                self.degraded = True
                log.warning("store lost; clients told", extra={"count": len(self.delivery.conns)})
            self._told = {sid: at for sid, at in self._told.items() if sid in self.delivery.conns}
            new = [sid for sid in self.delivery.conns if sid not in self._told]
            self.delivery.send(new, EVENT, {"state": "degraded", "reason": "store_unreachable",
                                            "since": self.lost_at_ms})
            self._told.update(dict.fromkeys(new, now))
            gone = [sid for sid, at in self._told.items() if now - at >= DROP_AFTER_S]
            if gone:
                log.warning("store still lost; clients let go", extra={"count": len(gone)})
            for sid in gone:
                del self._told[sid]
                await self.delivery.drop(sid)
        elif self.degraded and self.lost_since is None and self.caught_up():
            self.degraded = False
            told = [sid for sid in self._told if sid in self.delivery.conns]
            self.delivery.send(told, EVENT, {"state": "ok"})
            self._told.clear()
            log.info("store back; clients told", extra={"count": len(told)})

"""Prometheus metrics (prometheus-client), one registry per app. No personal data."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric

from .core.outcome import Outcome

# The gauges that describe the whole store (rooms, members waiting on call) are read
# from it at most this often, however often /metrics is asked: a scrape costs nothing.
STATE_REFRESH_S: Final = 15.0


class _OverBudget:
    """Moderation judgements past their time budget, by hook, over every pipeline."""

    def __init__(self, pipelines: Iterable[Any]) -> None:
        self.pipelines = list(pipelines)

    def collect(self) -> Iterator[Metric]:
        fam = CounterMetricFamily("circles_moderation_over_budget",
                                  "Moderation hook judgements that took longer than their budget (5 ms), by hook",
                                  labels=["hook"])
        totals: collections.Counter[str] = collections.Counter()
        for p in self.pipelines:
            over: Mapping[str, int] = p.over_budget
            totals.update(over)
        for hook, n in sorted(totals.items()):
            fam.add_metric([hook], n)
        yield fam


class Metrics:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._read_state: Callable[[], Awaitable[tuple[int, int]]] | None = None
        self._state_at: float | None = None
        self._state_lock = asyncio.Lock()
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge("circles_connections", "Open Socket.IO connections on this worker", registry=r)
        self.disconnects = Counter("circles_disconnects_total", "Connections ended, by Engine.IO's reason",
                                   ["reason"], registry=r)
        self.media_rooms = Gauge("circles_media_rooms", "Rooms whose audio this worker mixes", registry=r)
        self.media_peers = Gauge("circles_media_peers", "Audio connections this worker serves", registry=r)
        self.media_restarts = Counter("circles_media_restarts_total",
                                      "Clients told to offer again (rtc.restart): their room's audio moved", registry=r)
        self.gc_pause = Histogram("circles_gc_pause_seconds", "Garbage collections of this worker, by generation",
                                  ["generation"], buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
                                  registry=r)
        self.rooms = Gauge("circles_rooms", "Rooms in the store", registry=r)
        self.events = Counter("circles_events_total", "Room events committed by this worker", ["type"], registry=r)
        self.deliveries = Counter("circles_deliveries_total", "room.event packets sent to clients", registry=r)
        self.commands = Counter("circles_commands_total", "Client commands answered", ["event", "result"],
                                registry=r)
        self.answered = Histogram("circles_oncall_answer_seconds", "Time from joining an on-call room to a responder",
                                  buckets=(1, 5, 10, 20, 30, 60, 90, 120, 300, 600), registry=r)
        self.pages = Counter("circles_oncall_pages_total", "On-call pages sent", ["tier", "reason"], registry=r)
        self.waiting = Gauge("circles_oncall_waiting", "Members waiting for a responder now", registry=r)
        self.latency = Histogram("circles_command_seconds", "Time to answer a client command", ["event"],
                                 buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
                                 registry=r)

    def track_state(self, read: Callable[[], Awaitable[tuple[int, int]]]) -> None:
        """``read`` gives (rooms in the store, members waiting on call)."""
        self._read_state = read

    def watch_pipelines(self, pipelines: Iterable[Any]) -> None:
        self.registry.register(_OverBudget(pipelines))

    def _fresh(self) -> bool:
        return self._state_at is not None and self._now() - self._state_at < STATE_REFRESH_S

    async def refresh_state(self) -> None:
        """Read the store-wide gauges if they are older than STATE_REFRESH_S; scrapes
        that arrive meanwhile wait for that one read."""
        if self._read_state is None or self._fresh():
            return
        async with self._state_lock:
            if self._fresh():
                return
            self._state_at = self._now()  # also when the store is away: no retry storm
            try:
                rooms, waiting = await self._read_state()
            except Exception:  # the store is away; the gauges keep their last values
                return
            self.rooms.set(rooms)
            self.waiting.set(waiting)

    def gc_callback(self) -> Callable[[str, dict[str, Any]], None]:
        """A ``gc.callbacks`` entry timing every collection: the full ones (generation
        2) are the long pauses behind a latency spike after a burst of joins."""
        started = [0.0]
        by_generation = {g: self.gc_pause.labels(str(g)) for g in range(3)}

        def callback(phase: str, info: dict[str, Any]) -> None:
            # A collection can start anywhere, also at the bottom of a deep stack (a
            # payload nested thousands deep being decoded): with no frames left for this
            # callback, that collection goes unmeasured rather than print a traceback.
            try:
                if phase == "start":
                    started[0] = time.perf_counter()
                else:
                    child = by_generation.get(info.get("generation", -1))
                    if child is not None:
                        child.observe(time.perf_counter() - started[0])
            except RecursionError:
                pass
        return callback

    def observe(self, outcome: Outcome) -> None:
        """Count what one committed transition did."""
        for e in outcome.events:
            self.events.labels(e.type).inc()
            if e.type == "oncall.answered":
                self.answered.observe(e.data["waited_ms"] / 1000)
        for n in outcome.notices:
            if n.event == "oncall.page":
                self.pages.labels(str(n.data["tier"]), n.data["reason"]).inc()

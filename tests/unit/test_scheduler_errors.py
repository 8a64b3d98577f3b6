"""A timer whose room cannot be read now is tried again, quietly (found by the soak:
a Redis restart between the look and the fire logged an error with a stack)."""

from __future__ import annotations

import logging

import pytest

from server.clock import ManualClock
from server.core.errors import CommandError
from server.scheduler import Scheduler
from server.store.memory import MemoryStore


class Due(MemoryStore):
    async def due_rooms(self, now_ms: int) -> list[str]:
        return ["a", "b"]


async def test_an_unavailable_store_at_fire_time_is_a_warning_and_the_others_still_fire(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock()
    fired: list[str] = []

    async def fire(room: str) -> None:
        if room == "a":
            raise CommandError("unavailable", "the server cannot reach its store; try again shortly")
        fired.append(room)

    with caplog.at_level(logging.WARNING, logger="circles.scheduler"):
        await Scheduler(Due(clock=clock), clock).run_once(fire)
    assert fired == ["b"]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [("WARNING", "timer not fired yet")]

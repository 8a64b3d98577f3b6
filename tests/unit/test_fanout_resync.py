"""``Fanout.resync``: after the link to the other workers was down, a room catches up from
the store's log, with no later event needed to reveal the gap."""

from __future__ import annotations

from typing import Any

from server.fanout import Fanout
from tests.unit.test_fanout import Log, Recorder, ev, joined


async def test_resync_delivers_what_was_missed_in_order_once() -> None:
    rec, log = Recorder(), Log(8)
    f = Fanout(rec, log.fetch, gap_wait_ms=10_000)
    await joined(f, "a", 3)
    f.deliver("r", [ev(4)])
    # 5..8 were committed while this worker heard nothing; 7 is already here.
    f.deliver("r", [ev(7)])
    assert await f.resync("r")
    assert rec.got["a"] == [4, 5, 6, 7, 8]
    assert await f.resync("r")  # nothing new: nothing sent twice
    f.deliver("r", [ev(8), ev(9)])
    assert rec.got["a"] == [4, 5, 6, 7, 8, 9]


async def test_resync_says_so_when_the_log_cannot_close_the_gap() -> None:
    rec = Recorder()

    async def gone(room: str, seq: int) -> list[dict[str, Any]] | None:
        return None  # the room is gone, or the gap is older than the retained log

    f = Fanout(rec, gone, gap_wait_ms=10_000)
    await joined(f, "a", 3)
    assert not await f.resync("r")
    assert "a" not in rec.got


async def test_resync_of_a_room_nobody_here_is_in_does_nothing() -> None:
    rec, log = Recorder(), Log(5)
    f = Fanout(rec, log.fetch, gap_wait_ms=10_000)
    assert await f.resync("r")
    assert log.fetches == 0

"""A circle's meeting format: its parts in order, run by the chair and the clock.

A room may carry a format (``RoomState.format``, a ``FormatRun``): ordered parts
(``Segment``), each a reading, a round, open shares, a topic, milestones, a break or the
closing, with a planned length. Starting the meeting enters the first part; the chair
moves on (``FormatAdvance``), or the clock does when the format's ``auto_advance`` is on
and the part's time is up. Without it, the end of a part's time only tells staff once
(``format.overtime``). After the last part the room stays open as free time (no queue,
open chat and open audio) for ``free_minutes``, then the meeting ends (``format.ended``)
and the room's settings go back to what they were before it started. The room goes on;
the format stays for next week's meeting.

What entering a part does:

- ``reading``: the floor is released and the queue paused; a named reader gets the floor
  (heard while they read; timed only by the part's own ``share_seconds``);
- ``round``: the check-in round starts (``floor.start_round``), with whoever is here;
- ``open_shares``: the queue is open (queue mode) with the part's share length;
- ``topic``: the queue is open, as the room has it;
- ``milestones``: the queue is open and the room is invited to share milestones
  (``format.milestones``);
- ``break``: the floor is released and the queue paused;
- ``closing``: any round ends and the queue is paused (the chair closes).

Leaving a part ends what it started: a round still running stops, a reader's turn ends.

A reading's text is the format's configuration, not chat: it is in the room's state and
the snapshot (clients show it from there), never in an event, the audit log or a log
line, and never passes moderation. Events carry the part's index.

Who may start, move on and end a meeting: the room's staff, and the member they made its
chair (``rules.SERVICE_POWERS``). The services handed out end with the meeting.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any

from . import commands as c
from . import floor
from .errors import CommandError
from .model import Format, FormatRun
from .outcome import Tx
from .room import end_services

MINUTE_MS = 60_000
# Parts during which nobody is given the floor from the queue: hands may go up, and the
# chair may still grant it.
_PAUSED = frozenset({"reading", "break", "closing"})


def _tell_runners(tx: Tx, event: str, data: dict[str, Any]) -> None:
    """A private notice for whoever runs the meeting: the room's staff and its chair."""
    tx.to_facilitators(event, data)
    for pid, p in tx.state.participants.items():
        if p.service == "chair":
            tx.to_participant(pid, event, data)


# -- the format as stored -----------------------------------------------------------------------

def spec_of(fmt: Format) -> str:
    return json.dumps(fmt.to_wire(), separators=(",", ":"), sort_keys=True, ensure_ascii=False)


@functools.lru_cache(maxsize=256)
def _parse(spec: str) -> Format:
    return Format.from_wire(json.loads(spec))


def format_of(run: FormatRun) -> Format:
    return _parse(run.spec)


def view(run: FormatRun) -> dict[str, Any]:
    """The format and its meeting as clients and the admin API see them (with titles and
    reading texts: this is configuration, shown from the snapshot)."""
    fmt = format_of(run)
    if run.free_until is not None:
        nxt = None
    elif run.index is None:
        nxt = 0
    else:
        nxt = run.index + 1 if run.index + 1 < len(fmt.segments) else None
    return {**fmt.to_wire(), "minutes": fmt.minutes, "running": run.running, "index": run.index,
            "started_at": run.started_at, "ends_at": run.ends_at, "reader_id": run.reader_id,
            "next_index": nxt, "free_until": run.free_until}


# -- building blocks --------------------------------------------------------------------------

def _run(tx: Tx) -> FormatRun:
    run = tx.state.format
    assert run is not None
    return run


def _settle(tx: Tx, **changes: Any) -> None:
    """Change the room's settings, telling the room when they did change."""
    s = tx.state
    new = dataclasses.replace(s.settings, **changes)
    if new != s.settings:
        s.settings = new
        tx.emit("settings.changed", {"settings": new.to_wire()}, actor=None)


def _stop_round(tx: Tx) -> None:
    s = tx.state
    if s.round is None:
        return
    if s.floor is not None:
        floor.release(tx, "revoked", advance_after=False)
    floor.end_round(tx)


def _leave(tx: Tx, run: FormatRun) -> None:
    """End what the part ``run`` was in started."""
    s = tx.state
    if run.index is None:
        return
    kind = format_of(run).segments[run.index].kind
    if kind == "round":
        _stop_round(tx)
    elif kind == "reading" and s.floor is not None and s.floor.participant_id == run.reader_id:
        floor.release(tx, "revoked", advance_after=False)


def _check_reader(tx: Tx, fmt: Format, index: int, reader: str | None) -> None:
    if reader is None:
        return
    if fmt.segments[index].kind != "reading":
        raise CommandError("invalid", "reader: only a reading has a reader")
    p = tx.state.participants.get(reader)
    if p is None:
        raise CommandError("not_found", "reader: no such participant in the room")
    if p.muted:
        raise CommandError("muted", "reader: a muted participant cannot read")


def _enter(tx: Tx, index: int, reader: str | None, first: bool) -> None:
    """Leave the part now running and begin part ``index``."""
    s = tx.state
    run = _run(tx)
    before = run.before
    assert before is not None
    seg = format_of(run).segments[index]
    ends = tx.now + seg.minutes * MINUTE_MS
    s.format = dataclasses.replace(run, index=index, started_at=tx.now, ends_at=ends, reader_id=reader,
                                   free_until=None, overtime=False)
    data: dict[str, Any] = {"index": index, "started_at": tx.now, "ends_at": ends, "reader_id": reader}
    if first:
        # How many said they are new (never who): the welcome can greet them.
        newcomers = sum(1 for p in s.participants.values() if p.arrival == "new")
        tx.emit("format.started", {"format_id": format_of(run).id, **data, "newcomers": newcomers})
    else:
        tx.emit("format.segment", data)
    _leave(tx, run)
    # A reading is timed by its own share length or not at all: the room's three
    # minutes would run out under a reader halfway through.
    share = seg.share_seconds if seg.share_seconds is not None or seg.kind == "reading" else before.share_seconds
    _settle(tx, share_seconds=share, auto_advance=False if seg.kind in _PAUSED else before.auto_advance,
            audio=before.audio, chat=before.chat)
    if seg.kind in ("reading", "break"):
        _stop_round(tx)
        floor.release(tx, "revoked", advance_after=False)
        if reader is not None:
            floor.grant(tx, reader)
        return
    if seg.kind == "closing":
        _stop_round(tx)
        return
    if seg.kind == "round":
        if any(p.connected and not p.muted for p in s.participants.values()):
            floor.start_round(tx, None)
        return
    if seg.kind == "milestones":
        tx.emit("format.milestones", {"index": index}, actor=None)
    # open_shares, topic, milestones: the queue is open.
    _stop_round(tx)
    floor.advance(tx)


def _free(tx: Tx) -> None:
    """After the last part: free time, no queue, open chat and open audio."""
    s = tx.state
    run = _run(tx)
    assert run.before is not None
    until = tx.now + format_of(run).free_minutes * MINUTE_MS
    s.format = dataclasses.replace(run, index=None, started_at=tx.now, ends_at=until, reader_id=None,
                                   free_until=until, overtime=False)
    tx.emit("format.free", {"ends_at": until})
    _leave(tx, run)
    _stop_round(tx)
    floor.release(tx, "revoked", advance_after=False)
    if s.queue:
        s.queue = []
        tx.emit("queue.moved", {"queue": []}, actor=None)
    _settle(tx, audio="open", chat="open", auto_advance=False, share_seconds=run.before.share_seconds)


def _end(tx: Tx) -> None:
    """The meeting is over: the room's settings as they were before it; the format stays."""
    s = tx.state
    run = _run(tx)
    s.format = FormatRun(spec=run.spec)
    tx.emit("format.ended", {})
    end_services(tx)
    _leave(tx, run)
    _stop_round(tx)
    if run.before is not None and s.settings != run.before:
        s.settings = run.before
        tx.emit("settings.changed", {"settings": run.before.to_wire()}, actor=None)
    floor.advance(tx)


def _next(tx: Tx) -> None:
    run = _run(tx)
    assert run.index is not None
    fmt = format_of(run)
    if run.index + 1 < len(fmt.segments):
        _enter(tx, run.index + 1, None, first=False)
    elif fmt.free_minutes > 0:
        _free(tx)
    else:
        _end(tx)


# -- commands -------------------------------------------------------------------------------------

def format_set(tx: Tx, cmd: c.FormatSet) -> None:
    s = tx.state
    if s.kind != "circle" or s.parent is not None:
        raise CommandError("invalid", "only a circle can have a meeting format")
    if s.format is not None and s.format.running:
        raise CommandError("conflict", "a meeting is running; end it before changing its format")
    s.format = FormatRun(spec=spec_of(cmd.format))
    tx.emit("format.changed", {"format_id": cmd.format.id})
    tx.reply["format"] = view(s.format)
    tx.audit("format.set", None, cmd.format.id)


def _attached(tx: Tx) -> FormatRun:
    """The room's format, or ``not_found``."""
    if tx.state.format is None:
        raise CommandError("not_found", "this circle has no meeting format")
    return tx.state.format


def _running(tx: Tx) -> FormatRun:
    """The room's format while its meeting runs, or ``conflict``."""
    run = tx.state.format
    if run is None or not run.running:
        raise CommandError("conflict", "no meeting is running")
    return run


def format_clear(tx: Tx, cmd: c.FormatClear) -> None:
    s = tx.state
    run = _attached(tx)
    if run.running:
        _end(tx)
    s.format = None
    tx.emit("format.changed", {"format_id": None})
    tx.audit("format.clear", None, format_of(run).id)


def format_start(tx: Tx, cmd: c.FormatStart) -> None:
    s = tx.state
    run = _attached(tx)
    if run.running:
        raise CommandError("conflict", "the meeting has started already")
    fmt = format_of(run)
    _check_reader(tx, fmt, 0, cmd.reader)
    _stop_round(tx)
    s.format = dataclasses.replace(run, before=dataclasses.replace(s.settings, mode="queue"))
    _enter(tx, 0, cmd.reader, first=True)
    tx.audit("format.start", None, fmt.id)


def format_advance(tx: Tx, cmd: c.FormatAdvance) -> None:
    run = _running(tx)
    fmt = format_of(run)
    if cmd.index is None:
        if run.index is None:
            raise CommandError("conflict", "this is the free time after the last part; end the meeting instead")
        target = run.index + 1
        if target < len(fmt.segments):
            _check_reader(tx, fmt, target, cmd.reader)
            _enter(tx, target, cmd.reader, first=False)
        elif cmd.reader is not None:
            raise CommandError("invalid", "reader: this was the last part")
        else:
            _next(tx)
    else:
        if not 0 <= cmd.index < len(fmt.segments):
            raise CommandError("invalid", f"index must be from 0 to {len(fmt.segments) - 1}")
        target = cmd.index
        _check_reader(tx, fmt, target, cmd.reader)
        _enter(tx, target, cmd.reader, first=False)
    tx.audit("format.advance", cmd.reader, f"{fmt.id} part {target}" if target < len(fmt.segments) else fmt.id)


def format_end(tx: Tx, cmd: c.FormatEnd) -> None:
    run = _running(tx)
    _end(tx)
    tx.audit("format.end", None, format_of(run).id)


# -- time -------------------------------------------------------------------------------------------

def tick(tx: Tx) -> None:
    """A part whose time is up: on to the next (auto_advance; once per tick, so a late tick
    never skips parts), or staff are told once. Free time that is over ends the meeting."""
    run = tx.state.format
    if run is None:
        return
    if run.free_until is not None:
        if tx.now >= run.free_until:
            _end(tx)
        return
    if run.index is None or run.ends_at is None or tx.now < run.ends_at:
        return
    if format_of(run).auto_advance:
        _next(tx)
    elif not run.overtime:
        tx.state.format = dataclasses.replace(run, overtime=True)
        tx.touch()
        _tell_runners(tx, "format.overtime", {"room": tx.state.id, "index": run.index, "ends_at": run.ends_at})


def next_deadline(run: FormatRun | None) -> int | None:
    """When ``tick`` would change the room: the end of free time, or of the part now."""
    if run is None:
        return None
    if run.free_until is not None:
        return run.free_until
    if run.index is None or run.ends_at is None:
        return None
    if format_of(run).auto_advance or not run.overtime:
        return run.ends_at
    return None

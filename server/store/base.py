"""The store protocol: one small interface, two implementations (memory, Redis).

A commit is atomic: the new state, the events it appended to the room log, its audit
entries, the client_ids it saw, its calls to the on-call webhook (the outbox) and the
room's next timer deadline are written together, and only if the stored state still has the version the
transition started from. That is what makes
``seq`` unique and timers fire once when many workers share one store.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal, NamedTuple, Protocol

from ..core.model import AuditEntry, Event, RoomState
from ..core.outcome import Outcome


class StoreUnavailable(Exception):
    """The store cannot be reached now; callers answer ``unavailable`` and retry later."""


class OutboxItem(NamedTuple):
    """A committed webhook call not yet delivered: ``key`` acknowledges it."""

    key: str
    data: dict[str, Any]
    tries: int

    @classmethod
    def from_key(cls, key: str, tries: int) -> OutboxItem:
        return cls(key, json.loads(key)["data"], tries)

    @property
    def id(self) -> str:
        """The same on every attempt: a receiver can drop a repeat by it."""
        return str(json.loads(self.key)["id"])

    @property
    def event(self) -> str:
        """What the call is about (keys written before events were named: escalations)."""
        return str(json.loads(self.key).get("event", "oncall.escalated"))


# -- the audit log ------------------------------------------------------------------------------
#
# Kept per room, in two rings with caps of their own, so that what members can cause in
# volume (reports, messages the pipeline held, blocked or redacted, alerts) never pushes
# out what staff and the system did (bans, removals, mutes, admissions, deletions, pages,
# escalations, answers, room ends). A third bound, the total over all rooms, takes the
# oldest entries of the room that holds the most (its signals before its actions), so one
# room's flood costs that room, not the others.

AuditClass = Literal["action", "signal"]
AUDIT_CLASSES: Final[tuple[AuditClass, ...]] = ("action", "signal")

# What members cause by their own words and reports, and anyone with a group link by
# using it (or a public circle's open door); every other action (and any new one) is kept as a staff or system action,
# the long-lived class.
SIGNAL_ACTIONS: Final = frozenset({"report", "message.blocked", "message.held", "message.redacted", "invite.use",
                                   "schedule.knock"})
SIGNAL_PREFIXES: Final = ("alert.",)

# Staff and system actions a room keeps: a weekly circle records tens a meeting, and a
# busy on-call room three or so per visit (page, maybe an escalation, the answer), so
# 5000 holds 30 days of about 50 visits a day.
AUDIT_ACTIONS_KEPT: Final = 5000
# Signals a room keeps: the newest thousand are what a facilitator or a centre reviews;
# past that it is a flood, whose oldest part says nothing new (550 reports in 6 s were
# seen from one member).
AUDIT_SIGNALS_KEPT: Final = 1000
AUDIT_KEPT: Final[Mapping[AuditClass, int]] = {"action": AUDIT_ACTIONS_KEPT, "signal": AUDIT_SIGNALS_KEPT}
# Entries kept over all rooms: about 250 bytes each in Redis, so ~50 MB at most; tens of
# circles and an on-call room stay far below it unless someone floods.
AUDIT_MAX: Final = 200_000
# The most entries one read returns (the API's page; also the default).
AUDIT_PAGE_MAX: Final = 1000
# An audit action name (``mute``, ``oncall.page``, ``alert.crisis``) as a filter of the
# admin API names it (matched whole), and how many names one filter may hold.
AUDIT_ACTION_PATTERN: Final = r"[a-z][a-z0-9_.-]{0,63}"
AUDIT_ACTIONS_MAX: Final = 50


def audit_class(action: str) -> AuditClass:
    if action in SIGNAL_ACTIONS or action.startswith(SIGNAL_PREFIXES):
        return "signal"
    return "action"


_CURSOR: Final = re.compile(r"([0-9]{1,15}):([0-9]{1,18})")


class AuditCursor(NamedTuple):
    """Where a page of the audit log ends: entries are ordered by (``at``, ``id``), the
    id a number the store gives each entry as it is appended. As text ``<at>:<id>``."""

    at: int
    id: int

    def __str__(self) -> str:
        return f"{self.at}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> AuditCursor:
        m = _CURSOR.fullmatch(text)
        if m is None:
            raise ValueError("an audit cursor is <at>:<id>, two whole numbers")
        return cls(int(m[1]), int(m[2]))


class AuditPage(NamedTuple):
    """Entries oldest first; ``next`` is the cursor for the page of older entries (pass it
    as ``before``), None when there are none."""

    entries: list[AuditEntry]
    next: AuditCursor | None


# An entry as the stores hold it: (at, id, entry); ids are unique, so tuples never compare
# entries.
Held = tuple[int, int, AuditEntry]


def page_of(newest_first: Iterable[Held], limit: int) -> AuditPage:
    """The page of ``limit`` from entries newest first (up to ``limit + 1`` of them are read)."""
    taken: list[Held] = []
    more = False
    for held in newest_first:
        if len(taken) == limit:
            more = True
            break
        taken.append(held)
    taken.reverse()
    nxt = AuditCursor(taken[0][0], taken[0][1]) if more and taken else None
    return AuditPage([h[2] for h in taken], nxt)


class AuditFilter(NamedTuple):
    """What a read of the audit asks for beyond its room: entries at or after ``since``,
    before the cursor ``before`` and before ``until``, of one of ``actions`` (None: any).

    ``until`` is a cursor too: ``(until, 0)`` comes after every entry of an earlier moment
    and before any of that moment (ids start at 1), so the stores have one upper bound to
    apply, the smaller of the two (``upper``)."""

    since: int | None = None
    before: AuditCursor | None = None
    until: int | None = None
    actions: frozenset[str] | None = None

    @property
    def upper(self) -> AuditCursor | None:
        until = None if self.until is None else AuditCursor(self.until, 0)
        bounds = [c for c in (self.before, until) if c is not None]
        return min(bounds) if bounds else None

    def classes(self) -> tuple[AuditClass, ...]:
        """The rings that can hold what is asked for."""
        if self.actions is None:
            return AUDIT_CLASSES
        return tuple(c for c in AUDIT_CLASSES if any(audit_class(a) == c for a in self.actions))

    def wants(self, entry: AuditEntry) -> bool:
        return self.actions is None or entry.action in self.actions


def outbox_keys(outcome: Outcome) -> list[str]:
    """The webhook calls a commit writes to the outbox, each under a key of its own
    (``{id, event, data}`` as JSON: ids and times only, never names or text). The id is
    the notice's own when it has one (a reminder's ``<room>:<start_ms>``: the same call
    committed twice is one key), else drawn here."""
    return [json.dumps({"id": str(n.data.get("id") or secrets.token_hex(8)), "event": n.event,
                        "data": {k: v for k, v in n.data.items() if k != "id"}}, separators=(",", ":"))
            for n in outcome.notices if n.to.kind == "webhook"]


class AttendanceRow(NamedTuple):
    room: str
    date: str
    participant: str
    ms: int
    shared: bool


class Store(Protocol):
    async def create_room(self, state: RoomState, deadline: int | None = None) -> bool:
        """Store a new room; False if a room with that id exists already."""
        ...

    async def load(self, room_id: str) -> RoomState | None: ...

    async def load_with_client_id(self, room_id: str, client_key: str) -> tuple[RoomState | None, int | None]:
        """The room, and what was remembered of ``client_key`` (``room.client_key``) as of
        that state or later: the seq its first try got (or HELD_SEQ / BLOCKED_SEQ)."""
        ...

    async def commit(self, expected_version: int, outcome: Outcome, deadline: int | None) -> bool:
        """Write ``outcome`` if the stored version is still ``expected_version``."""
        ...

    async def seq(self, room_id: str) -> int | None:
        """The room's latest seq; None when the store has no such room."""
        ...

    async def events_after(self, room_id: str, seq: int) -> list[Event] | None:
        """Every logged event with a seq above ``seq``, in order; None if ``seq`` is
        older than the retained log (the caller then sends a reset snapshot)."""
        ...

    async def recent_chat(self, room_id: str, limit: int) -> list[Event]:
        """The last ``limit`` chat messages in the retained log, oldest first."""
        ...

    async def delete_room(self, room_id: str) -> None:
        """Forget everything of a room but its audit entries."""
        ...

    async def held_texts(self, room_id: str, ids: list[str]) -> dict[str, str]:
        """The texts of these held messages (kept beside the state by ``commit`` from the
        outcome's ``held_texts``, forgotten with ``held_dropped`` and with the room);
        ids it does not hold are left out."""
        ...

    async def room_ids(self) -> list[str]: ...

    async def due_rooms(self, now: int, limit: int = 100) -> list[str]:
        """Rooms whose next deadline has come."""
        ...

    async def next_due(self) -> int | None:
        """The earliest deadline of any room, or None."""
        ...

    async def audit(self, room: str | None, since: int | None, limit: int = AUDIT_PAGE_MAX) -> list[AuditEntry]:
        """The newest ``limit`` entries at or after ``since`` (of one room, or of all), oldest first."""
        ...

    async def audit_page(self, room: str | None, since: int | None, before: AuditCursor | None = None,
                         limit: int = AUDIT_PAGE_MAX, *, until: int | None = None,
                         actions: frozenset[str] | None = None) -> AuditPage:
        """The newest ``limit`` entries at or after ``since``, before ``until`` and before
        ``before``, of ``actions`` only when given, oldest first, and the cursor of the
        next (older) page (``AuditFilter`` says how the bounds combine)."""
        ...

    async def rota(self) -> list[dict[str, Any]]:
        """The on-call rota's shifts as last saved (``server/rota.py`` reads them); empty
        when none was saved or it expired (``keys.ROTA_TTL_MS`` after it was last read or
        written)."""
        ...

    async def save_rota(self, shifts: list[dict[str, Any]]) -> None:
        """Replace the rota (JSON-able shifts, already validated)."""
        ...

    async def claim_outbox(self, lease_ms: int, limit: int = 20) -> list[OutboxItem]:
        """Webhook calls due now (committed, not acknowledged), each hidden from other
        claimers for ``lease_ms``: a claimer that dies leaves it to the next one."""
        ...

    async def ack_outbox(self, key: str) -> None:
        """The call was delivered (or given up): forget it."""
        ...

    # -- attendance (``server/attendance.py``): ids, dates, milliseconds, a shared flag ----
    # Every write keeps what it touches for ``ttl_ms`` more; reads leave out what expired
    # by ``now`` (the injected clock), and Redis deletes it by itself (key TTLs).

    async def attendance_record(self, op: str, room: str, participant: str, date: str, now: int,
                                ttl_ms: int) -> None:
        """``open``: start counting connected time at ``date``'s meeting unless an
        interval is open already; ``close``: add the open interval's time to its meeting
        and close it (nothing when none is open); ``share``: mark the open interval's
        meeting (else ``date``'s) as shared."""
        ...

    async def attendance_of(self, participant: str, now: int) -> list[AttendanceRow]:
        """One participant's meetings (an open interval counted up to ``now``)."""
        ...

    async def attendance_room(self, room: str, now: int) -> list[AttendanceRow]:
        """Every participant's meetings in one room (open intervals as in ``attendance_of``)."""
        ...

    async def attendance_erase(self, participant: str) -> int:
        """Forget a participant's meetings and open intervals; how many meetings went."""
        ...

    async def attendance_follow(self, participant: str, on: bool | None, now: int, ttl_ms: int) -> bool:
        """Set (``on``: True/False) or read (None) a participant's follow-up opt-in."""
        ...

    async def add_outbox(self, calls: list[str]) -> None:
        """Webhook calls decided outside a room commit (``outbox_keys``' shape): a key
        that is there already is left as it is."""
        ...

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the store cannot be reached."""
        ...

    async def close(self) -> None: ...

"""The values a room is made of: settings, participants, floor, round, events.

Values are frozen dataclasses that validate themselves on construction (aiortc style);
``RoomState`` is the one mutable record, and only the transitions in ``room.py`` change
it, always on a copy (see ``RoomState.copy``). Everything here serialises to plain JSON
so that any store can hold it.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NamedTuple, get_args

from .errors import CommandError

# The facts below are the one source for every layer: the gateway's pydantic schemas, the
# admin API, the config loader and the token checks all import them rather than typing
# them again, so a rule cannot change in one place and not in another. The closed sets
# are ``Literal`` types (what pydantic and mypy check) with their values as a tuple
# (what the core's own checks and messages use).
Role = Literal["member", "facilitator", "responder"]
ROLES: Final = get_args(Role)
RoomKind = Literal["circle", "oncall"]
ROOM_KINDS: Final = get_args(RoomKind)
ROOM_ID_PATTERN: Final = r"^[a-z0-9][a-z0-9-]{0,63}$"
ROOM_ID_RE: Final = re.compile(ROOM_ID_PATTERN)
# What a client or an operator is told when a room id breaks the rule.
ROOM_ID_MESSAGE: Final = f"room id must match {ROOM_ID_PATTERN}"
# A participant id (a token's ``sub``).
SUB_PATTERN: Final = r"^[A-Za-z0-9_-]{1,64}$"
SUB_RE: Final = re.compile(SUB_PATTERN)
NAME_MAX: Final = 40
TITLE_MAX: Final = 120

# The contract promises recovery for at least the last 1000 events of a live room.
LOG_RETAIN: Final = 1000
# The stores keep twice that, so that a reconnect just past 1000 events still recovers
# without a reset. This is also how far back the room remembers deleted messages, and
# the service never serves an event older than this (so a deleted message's text cannot
# come back from a store that happens to keep more).
LOG_KEPT: Final = 2 * LOG_RETAIN
# The snapshot's `recent` holds at most this many chat messages (contract §4.2).
RECENT_CHAT: Final = 50
# How many `client_id`s a room remembers for idempotent retries (kept by the store
# beside the room's state). A retry comes within seconds or minutes of the first try;
# this many covers far more than one reconnect's worth.
CLIENT_IDS_KEPT: Final = 2000
# A room that a facilitator's join made (not the admin API or the config) ends once it
# has had nobody in it for this long: a link holder cannot leave rooms behind without
# bound, and a facilitator who steps out for a few minutes finds the room as it was.
EMPTY_ROOM_MS: Final = 10 * 60_000
# Services a facilitator may hand a member for one meeting: each gives exactly the powers
# of ``rules.SERVICE_POWERS``. One chair and one timekeeper at a time; greeters, any number.
Service = Literal["chair", "timekeeper", "greeter"]
SERVICES: Final = get_args(Service)
SINGLE_SERVICES: Final = frozenset({"chair", "timekeeper"})
Arrival = Literal["new", "returning"]
ARRIVALS: Final = get_args(Arrival)

# A room is forgotten a week after its last commit (store.keys.ROOM_IDLE_TTL_MS). One that
# must outlive a quiet week (a weekly circle, a group link still valid) commits this often.
KEEP_ALIVE_MS: Final = 86_400_000
# Held messages awaiting review; past this the oldest is dropped (the sender was told
# `held`, and a facilitator who has not looked at 200 messages will not look at 201).
HELD_MAX: Final = 200


def valid_room_id(room_id: object) -> bool:
    return isinstance(room_id, str) and ROOM_ID_RE.match(room_id) is not None


class IntRange(NamedTuple):
    """Inclusive bounds of a whole-number value, shared by the core's checks and the
    gateway's schemas (``Field(ge=r.lo, le=r.hi)``)."""

    lo: int
    hi: int


# A timekeeper (or facilitator) adds this much to a share at a time.
EXTEND_SECONDS: Final = IntRange(10, 600)
# Small groups (``core.groups``): a circle splits into this many (one group would be the
# circle again; 20 is a 60-person circle in threes), for this many minutes (a minute's
# check-in to a two-hour workshop).
GROUPS_COUNT: Final = IntRange(2, 20)
GROUPS_MINUTES: Final = IntRange(1, 120)


Overrun = Literal["notify", "advance"]
FloorMode = Literal["queue", "round"]
ChatMode = Literal["open", "facilitators", "off"]
AudioMode = Literal["floor", "open"]

# Every setting's allowed values (contract §4.2).
SETTING_CHOICES: Final[Mapping[str, tuple[str, ...]]] = {
    "overrun": get_args(Overrun),
    "mode": get_args(FloorMode),
    "chat": get_args(ChatMode),
    "audio": get_args(AudioMode),
}
SETTING_FLAGS: Final = ("auto_advance", "lobby", "locked", "consent")
SETTING_RANGES: Final[Mapping[str, IntRange]] = {
    "share_seconds": IntRange(10, 3600),  # or None: shares are untimed
    "warn_seconds": IntRange(0, 3600),
    "max_participants": IntRange(1, 1000),
    "slow_mode_seconds": IntRange(0, 3600),
    "reconnect_grace_seconds": IntRange(0, 3600),
    "escalate_after_seconds": IntRange(1, 86400),
}


# Characters that change how text is shown without being seen: bidi embeddings,
# overrides and isolates (a name or a message that reads backwards). Dropped from chat.
BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_DROP_BIDI: Final = {ord(ch): None for ch in BIDI_CONTROLS}


def _control(ch: str) -> bool:
    return ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0


def clean_name(name: object) -> str:
    """A display name: NFKC, no invisible (format) characters, 1–40 characters after
    trimming, no control characters.

    A name is how people recognise each other, and the facilitator "Fay" must not have
    a twin made of "Fay" and a zero-width space, a soft hyphen, full-width letters or a
    right-to-left override: all of those fold to the plain name, which is then visible
    as a duplicate (and the client shows who is staff).
    """
    if not isinstance(name, str):
        raise CommandError("invalid", "name must be a string")
    name = unicodedata.normalize("NFKC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")
    name = " ".join(name.split())
    if not 1 <= len(name) <= NAME_MAX:
        raise CommandError("invalid", f"name must be 1-{NAME_MAX} characters")
    if any(_control(ch) for ch in name):
        raise CommandError("invalid", "name must not contain control characters")
    return name


def clean_text(text: str) -> str:
    """Chat text as it may be shown: control characters other than newline and tab are
    refused (NUL, ESC and friends have no place in a message), bidi overrides dropped.
    Zero-width joiners stay: emoji sequences and Indic scripts need them."""
    if any(_control(ch) and ch not in "\n\t" for ch in text):
        raise CommandError("invalid", "text must not contain control characters")
    return text.translate(_DROP_BIDI)


def _choice(name: str, value: object, options: tuple[str, ...]) -> None:
    if value not in options:
        raise CommandError("invalid", f"{name} must be one of {', '.join(options)}")


def _int_in(name: str, value: object, bounds: IntRange) -> None:
    lo, hi = bounds
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise CommandError("invalid", f"{name} must be an integer from {lo} to {hi}")


def _bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise CommandError("invalid", f"{name} must be true or false")


@dataclass(frozen=True)
class Settings:
    """Room settings with the contract's defaults (§4.2)."""

    title: str = ""
    share_seconds: int | None = 180
    warn_seconds: int = 30
    overrun: Overrun = "notify"
    auto_advance: bool = True
    mode: FloorMode = "queue"
    chat: ChatMode = "open"
    audio: AudioMode = "floor"
    lobby: bool = False
    locked: bool = False
    max_participants: int = 50
    slow_mode_seconds: int = 0
    reconnect_grace_seconds: int = 30
    escalate_after_seconds: int = 60
    # Members accept the circle's guidelines (and that nothing is recorded) to join.
    consent: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or len(self.title) > TITLE_MAX:
            raise CommandError("invalid", f"title must be a string of at most {TITLE_MAX} characters")
        for f in dataclasses.fields(self):  # in field order, so the first bad one is named
            value = getattr(self, f.name)
            if f.name in SETTING_RANGES:
                if not (f.name == "share_seconds" and value is None):
                    _int_in(f.name, value, SETTING_RANGES[f.name])
            elif f.name in SETTING_CHOICES:
                _choice(f.name, value, SETTING_CHOICES[f.name])
            elif f.name in SETTING_FLAGS:
                _bool(f.name, value)

    def updated(self, changes: Mapping[str, Any]) -> Settings:
        unknown = set(changes) - SETTINGS_FIELDS
        if unknown:
            raise CommandError("invalid", f"unknown setting(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **dict(changes))

    def to_wire(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SETTINGS_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(Settings))


@dataclass(frozen=True)
class Participant:
    id: str
    name: str
    role: str
    joined_at: int
    muted: bool = False
    connected: bool = True
    # When the connection dropped; the reconnect grace period runs from here. (Someone
    # still away when their small group ends: from a moment that may lie a little ahead,
    # so that the way back takes at least ``groups.RETURN_MS``.)
    disconnected_at: int | None = None
    # The live connection ("<worker>:<sid>"); a late disconnect of a replaced
    # connection must not mark the new one as gone.
    conn: str = ""
    # A service a facilitator handed this member for the meeting (``SERVICES``).
    service: str | None = None
    # When they accepted the room's guidelines (rooms with ``consent``); nothing else of it is kept.
    accepted_at: int | None = None
    # "new" or "returning", as they said on the way in: only staff and greeters see it.
    arrival: str | None = None

    def to_wire(self) -> dict[str, Any]:
        out = {
            "id": self.id, "name": self.name, "role": self.role, "muted": self.muted,
            "connected": self.connected, "joined_at": self.joined_at,
        }
        if self.service is not None:
            out["service"] = self.service
        if self.accepted_at is not None:
            out["accepted_at"] = self.accepted_at
        return out


@dataclass(frozen=True)
class Floor:
    participant_id: str
    started_at: int
    deadline: int | None
    warned: bool = False
    expired: bool = False

    def to_wire(self) -> dict[str, Any]:
        return {"participant_id": self.participant_id, "started_at": self.started_at, "deadline": self.deadline}


@dataclass(frozen=True)
class Round:
    order: tuple[str, ...]
    index: int

    def to_wire(self) -> dict[str, Any]:
        return {"order": list(self.order), "index": self.index}


@dataclass(frozen=True)
class HeldMessage:
    """A chat message waiting for a facilitator's review. It is not in the room log, and
    its text is not in the room state either: the store keeps it beside the state (the
    outcome's ``held_texts``), so that a room with many held messages does not rewrite
    them all on every commit."""

    id: str
    sender: str
    reason: str
    at: int
    redacted: bool = False
    reply_to: int | None = None
    client_id: str | None = None

    def to_wire(self, room: str, text: str) -> dict[str, Any]:
        return {"room": room, "id": self.id, "from": self.sender, "text": text, "reason": self.reason}


@dataclass(frozen=True)
class Event:
    """One entry of a room's ordered log, exactly as it travels as `room.event`."""

    room: str
    seq: int
    type: str
    at: int
    actor: str | None
    data: Mapping[str, Any]

    def to_wire(self) -> dict[str, Any]:
        return {"room": self.room, "seq": self.seq, "type": self.type, "at": self.at,
                "actor": self.actor, "data": dict(self.data)}

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> Event:
        return cls(room=d["room"], seq=d["seq"], type=d["type"], at=d["at"], actor=d["actor"], data=d["data"])


TargetKind = Literal["participant", "facilitators", "on_duty", "staff", "webhook", "service"]


@dataclass(frozen=True)
class Target:
    """Who a private notice goes to.

    ``participant``: one person of a room; ``facilitators``: the room's facilitators
    (responders too in an on-call room); ``on_duty``: every on-duty responder; ``staff``:
    every connected responder and facilitator, the staff of on-call rooms (tier-2 pages,
    which are about an on-call room); ``webhook``: the
    deployment's on-call webhook, called by the worker that committed the escalation;
    ``service``: the committing service itself (a scheduled meeting ended: attendance
    looks for misses), never delivered to anyone.
    """

    kind: TargetKind
    room: str = ""
    participant: str = ""
    # Only this connection of the participant (a replaced one), when set.
    conn: str = ""


@dataclass(frozen=True)
class Notice:
    """A private event: sent to its target only, never part of the room log."""

    event: str
    to: Target
    data: Mapping[str, Any]


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to whom, when and why. Never message text."""

    at: int
    room: str
    actor: str | None
    action: str
    target: str | None
    reason: str | None

    def to_wire(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Invite:
    """A group link to a room: whoever has it picks a name and waits in the lobby.

    Only the hash of the link's secret is kept; uses are counted here, so that a link
    limited to N uses admits N people however many workers answer at once."""

    id: str
    code_hash: str
    expires_at: int
    max_uses: int | None = None
    uses: int = 0
    created_at: int = 0

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "expires_at": self.expires_at, "max_uses": self.max_uses, "uses": self.uses,
                "created_at": self.created_at}


@dataclass(frozen=True)
class Recurrence:
    """A circle's weekly schedule (``core.recurrence``): the validated schedule as JSON
    text, whether the public feeds list it, when it last changed, and the start of the
    latest meeting reminded of, and the end of the latest meeting whose end was told
    (``meeting.ended``, for attendance)."""

    spec: str
    public: bool = False
    updated_at: int = 0
    reminded: int = 0
    ended: int = 0


# -- meeting formats (``core.format``) ------------------------------------------------------
# A circle's fixed order of parts (a reading, a check-in round, open shares...). The facts
# below bound what a format may hold; the edge's schemas and the config loader use them.
SegmentKind = Literal["reading", "round", "open_shares", "topic", "milestones", "break", "closing"]
SEGMENT_KINDS: Final = get_args(SegmentKind)
# The languages a format's titles and readings are written in. English is required: it is
# what a client shows when the reader's own language is missing.
FormatLanguage = Literal["en", "hi", "pa"]
FORMAT_LANGUAGES: Final = get_args(FormatLanguage)
FORMAT_ID_PATTERN: Final = ROOM_ID_PATTERN
FORMAT_ID_RE: Final = ROOM_ID_RE
# A part of a meeting lasts from a minute to three hours; a meeting has at most 30 parts
# (a long SMART meeting has six or seven), and free time after it lasts up to two hours.
SEGMENT_MINUTES: Final = IntRange(1, 180)
FORMAT_SEGMENTS: Final = IntRange(1, 30)
FREE_MINUTES: Final = IntRange(0, 120)
READING_MAX: Final = 5000
# All the reading text of one format, every language together: the format travels with
# the room's state, which the Redis store rewrites on every commit (a chat message), so
# its size is bounded well below 30 x 3 x READING_MAX.
READINGS_TOTAL_MAX: Final = 50_000


@dataclass(frozen=True)
class Text:
    """Words in the client's languages: English always, Hindi and Punjabi when given."""

    en: str
    hi: str | None = None
    pa: str | None = None

    def check(self, name: str, most: int) -> None:
        for lang in FORMAT_LANGUAGES:
            value = getattr(self, lang)
            if lang == "en" or value is not None:
                if not isinstance(value, str) or not value.strip() or len(value) > most:
                    raise CommandError("invalid", f"{name}.{lang} must be 1-{most} characters")
                if any(_control(ch) and ch not in "\n\t" for ch in value):
                    raise CommandError("invalid", f"{name}.{lang} must not contain control characters")

    def chars(self) -> int:
        return sum(len(v) for v in self.to_wire().values())

    def to_wire(self) -> dict[str, str]:
        return {lang: v for lang in FORMAT_LANGUAGES if (v := getattr(self, lang)) is not None}

    @classmethod
    def from_wire(cls, d: Mapping[str, str]) -> Text:
        return cls(**dict(d))


@dataclass(frozen=True)
class Segment:
    """One part of a meeting: what kind it is, its title, how long it is planned to last,
    the share length while it runs (None: the room's own), and a reading's text."""

    kind: SegmentKind
    title: Text
    minutes: int
    share_seconds: int | None = None
    text: Text | None = None

    def __post_init__(self) -> None:
        _choice("kind", self.kind, SEGMENT_KINDS)
        self.title.check("title", TITLE_MAX)
        _int_in("minutes", self.minutes, SEGMENT_MINUTES)
        if self.share_seconds is not None:
            _int_in("share_seconds", self.share_seconds, SETTING_RANGES["share_seconds"])
        if self.kind == "reading" and self.text is None:
            raise CommandError("invalid", "text: a reading needs its text")
        if self.kind != "reading" and self.text is not None:
            raise CommandError("invalid", "text: only a reading has a text")
        if self.text is not None:
            self.text.check("text", READING_MAX)

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "title": self.title.to_wire(), "minutes": self.minutes,
                               "share_seconds": self.share_seconds}
        if self.text is not None:
            out["text"] = self.text.to_wire()
        return out

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> Segment:
        return cls(kind=d["kind"], title=Text.from_wire(d["title"]), minutes=d["minutes"],
                   share_seconds=d.get("share_seconds"),
                   text=Text.from_wire(d["text"]) if d.get("text") is not None else None)


@dataclass(frozen=True)
class Format:
    """A meeting format: its parts in order, whether the clock moves on by itself when a
    part's time is up, and how long the room stays open as free time after the last."""

    id: str
    name: Text
    segments: tuple[Segment, ...]
    auto_advance: bool = False
    free_minutes: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or FORMAT_ID_RE.match(self.id) is None:
            raise CommandError("invalid", f"id must match {FORMAT_ID_PATTERN}")
        self.name.check("name", TITLE_MAX)
        lo, hi = FORMAT_SEGMENTS
        if not lo <= len(self.segments) <= hi:
            raise CommandError("invalid", f"segments: a format has {lo} to {hi} parts")
        _bool("auto_advance", self.auto_advance)
        _int_in("free_minutes", self.free_minutes, FREE_MINUTES)
        if sum(s.text.chars() for s in self.segments if s.text is not None) > READINGS_TOTAL_MAX:
            raise CommandError("invalid", f"segments: the readings hold at most {READINGS_TOTAL_MAX} characters "
                               "in all (every language together)")

    @property
    def minutes(self) -> int:
        """The meeting's planned length, free time not counted."""
        return sum(s.minutes for s in self.segments)

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name.to_wire(), "segments": [s.to_wire() for s in self.segments],
                "auto_advance": self.auto_advance, "free_minutes": self.free_minutes}

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> Format:
        return cls(id=d["id"], name=Text.from_wire(d["name"]),
                   segments=tuple(Segment.from_wire(s) for s in d["segments"]),
                   auto_advance=d.get("auto_advance", False), free_minutes=d.get("free_minutes", 0))


@dataclass(frozen=True)
class FormatRun:
    """A room's format and where its meeting is (``core.format``).

    ``spec`` is the format as JSON text (parsed once and cached, as a schedule's is);
    ``index`` the part now (None before the start and in free time); ``started_at`` and
    ``ends_at`` when it began and is planned to end; ``reader_id`` who reads a reading;
    ``free_until`` the end of the free time after the last part (None outside it);
    ``overtime`` whether staff were told that this part's time is up; ``before`` the
    room's settings when the meeting started, put back when it ends.
    """

    spec: str
    index: int | None = None
    started_at: int | None = None
    ends_at: int | None = None
    reader_id: str | None = None
    free_until: int | None = None
    overtime: bool = False
    before: Settings | None = None

    @property
    def running(self) -> bool:
        return self.index is not None or self.free_until is not None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["before"] = self.before.to_wire() if self.before is not None else None
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FormatRun:
        before = d.get("before")
        return cls(**{**d, "before": Settings(**before) if before is not None else None})


@dataclass(frozen=True)
class Group:
    """One small group of a split circle: its room and who was sent there."""

    room: str
    participants: tuple[str, ...]

    def to_wire(self) -> dict[str, Any]:
        return {"room": self.room, "participants": list(self.participants)}


@dataclass(frozen=True)
class Groups:
    """A circle split into small groups (``core.groups``) until ``ends_at``."""

    groups: tuple[Group, ...]
    ends_at: int

    @property
    def members(self) -> frozenset[str]:
        """Everyone sent to a group: away from the circle while the split lasts."""
        return frozenset(pid for g in self.groups for pid in g.participants)

    def to_wire(self) -> dict[str, Any]:
        return {"ends_at": self.ends_at, "groups": [g.to_wire() for g in self.groups]}

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> Groups:
        return cls(groups=tuple(Group(room=g["room"], participants=tuple(g["participants"])) for g in d["groups"]),
                   ends_at=d["ends_at"])


@dataclass(frozen=True)
class Waiting:
    """A member in an on-call room whom no responder has answered yet."""

    since: int
    escalated: bool = False


@dataclass
class RoomState:
    """Everything the rules need to know about one room.

    Held by the store and committed atomically with the events a transition made;
    ``version`` counts commits so that a store can refuse a stale write.
    """

    id: str
    kind: str
    settings: Settings
    created_at: int
    seq: int = 0
    version: int = 0
    participants: dict[str, Participant] = field(default_factory=dict)
    queue: list[str] = field(default_factory=list)
    floor: Floor | None = None
    round: Round | None = None
    lobby: dict[str, Participant] = field(default_factory=dict)
    admitted: set[str] = field(default_factory=set)
    banned: set[str] = field(default_factory=set)
    # Removed without a ban: may come back only through the lobby.
    kicked: set[str] = field(default_factory=set)
    held: dict[str, HeldMessage] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    # (Which client_ids a room has seen lives beside the state in the store, not in it:
    # up to CLIENT_IDS_KEPT entries would be copied and encoded on every commit.)
    # On-call rooms: members waiting for a responder (participant id -> since when).
    waiting: dict[str, Waiting] = field(default_factory=dict)
    # A private 1:1 room remembers the on-call room it was opened from...
    parent: str | None = None
    # ...and its two-person list: nobody else may join it, staff included. (A small
    # group's room has its circle as ``parent`` too, and its members and the circle's
    # staff as ``allowed``.)
    allowed: set[str] = field(default_factory=set)
    # A circle split into small groups, while the split lasts.
    groups: Groups | None = None
    # A small group's room: when its time is up, and whether its one-minute warning went out.
    group_ends_at: int | None = None
    group_warned: bool = False
    # Group links (invite id -> invite); they end with the room.
    invites: dict[str, Invite] = field(default_factory=dict)
    # A circle that meets weekly (None: always open).
    schedule: Recurrence | None = None
    # The circle's meeting format and where its meeting is (None: no format).
    format: FormatRun | None = None
    # When the rules last committed only to keep the room's keys alive (``room.keep_alive``).
    kept_at: int = 0
    # Made by a facilitator's join: ends EMPTY_ROOM_MS after it was last left empty.
    ephemeral: bool = False
    empty_since: int | None = None
    ended: bool = False

    def __post_init__(self) -> None:
        if not valid_room_id(self.id):
            raise CommandError("invalid", ROOM_ID_MESSAGE)
        _choice("kind", self.kind, ROOM_KINDS)

    @property
    def title(self) -> str:
        return self.settings.title or self.id

    def copy(self) -> RoomState:
        """A copy that a transition may change freely (values inside are frozen)."""
        return dataclasses.replace(
            self,
            participants=dict(self.participants), queue=list(self.queue), lobby=dict(self.lobby),
            admitted=set(self.admitted), banned=set(self.banned), kicked=set(self.kicked),
            held=dict(self.held),
            deleted=set(self.deleted), waiting=dict(self.waiting), allowed=set(self.allowed),
            invites=dict(self.invites),
        )

    def away(self) -> frozenset[str]:
        """Who is away in one of this circle's small groups (``core.groups``): still a
        participant, keeping their place, until the groups end."""
        return self.groups.members if self.groups is not None else frozenset()

    def connected_count(self) -> int:
        return sum(1 for p in self.participants.values() if p.connected)

    # -- serialisation ---------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "settings": self.settings.to_wire(),
            "created_at": self.created_at, "seq": self.seq, "version": self.version,
            "participants": [dataclasses.asdict(p) for p in self.participants.values()],
            "queue": list(self.queue),
            "floor": dataclasses.asdict(self.floor) if self.floor else None,
            "round": {"order": list(self.round.order), "index": self.round.index} if self.round else None,
            "lobby": [dataclasses.asdict(p) for p in self.lobby.values()],
            "admitted": sorted(self.admitted), "banned": sorted(self.banned),
            "kicked": sorted(self.kicked),
            "held": [dataclasses.asdict(h) for h in self.held.values()],
            "deleted": sorted(self.deleted),
            "waiting": {k: dataclasses.asdict(w) for k, w in self.waiting.items()},
            "parent": self.parent,
            "allowed": sorted(self.allowed),
            "groups": self.groups.to_wire() if self.groups else None,
            "group_ends_at": self.group_ends_at,
            "group_warned": self.group_warned,
            "invites": [dataclasses.asdict(i) for i in self.invites.values()],
            "schedule": dataclasses.asdict(self.schedule) if self.schedule else None,
            "format": self.format.to_dict() if self.format else None,
            "kept_at": self.kept_at,
            "ephemeral": self.ephemeral,
            "empty_since": self.empty_since,
            "ended": self.ended,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RoomState:
        rnd = d.get("round")
        return cls(
            id=d["id"], kind=d["kind"], settings=Settings(**d["settings"]),
            created_at=d["created_at"], seq=d["seq"], version=d["version"],
            participants={p["id"]: Participant(**p) for p in d["participants"]},
            queue=list(d["queue"]),
            floor=Floor(**d["floor"]) if d.get("floor") else None,
            round=Round(order=tuple(rnd["order"]), index=rnd["index"]) if rnd else None,
            lobby={p["id"]: Participant(**p) for p in d["lobby"]},
            admitted=set(d["admitted"]), banned=set(d["banned"]), kicked=set(d["kicked"]),
            held={h["id"]: HeldMessage(**{k: v for k, v in h.items() if k != "text"}) for h in d["held"]},
            deleted=set(d["deleted"]),
            waiting={k: Waiting(**w) for k, w in d.get("waiting", {}).items()},
            parent=d.get("parent"),
            allowed=set(d.get("allowed", ())),
            groups=Groups.from_wire(d["groups"]) if d.get("groups") else None,
            group_ends_at=d.get("group_ends_at"),
            group_warned=d.get("group_warned", False),
            invites={i["id"]: Invite(**i) for i in d.get("invites", ())},
            schedule=Recurrence(**d["schedule"]) if d.get("schedule") else None,
            format=FormatRun.from_dict(d["format"]) if d.get("format") else None,
            kept_at=d.get("kept_at", 0),
            ephemeral=d.get("ephemeral", False),
            empty_since=d.get("empty_since"),
            ended=d["ended"],
        )

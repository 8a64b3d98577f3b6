"""The soak's invariant checker (issue 18): pure functions over what clients received and
what the server acknowledged. ``bench/soak.py`` records; this judges. Each check returns
violations as short strings (empty: the invariant held).

What a client recorded, per person (one room each):

- ``sessions``: one list per connection-and-join, the seqs in the order they arrived
  (the join's ``missed`` first, then live events);
- ``log``: seq -> fingerprint ``(type, actor, data as canonical JSON)`` of every event seen;
- ``acked``: client_id -> the seq the server acknowledged for that chat message;
- ``texts``: client_id -> the text sent with it;
- ``resets``: how many joins answered ``reset: true``.

Invariants (the issue's list):

1. each room's log is identical on every client (a seq means the same event everywhere);
2. within a session seqs rise by one; over a person's whole run there is no gap between
   their first and last seq (a rejoin with ``since`` fills what they missed) and no reset;
3. every acknowledged message is in the room's log at its acknowledged seq, once; no
   client_id is committed twice (each text is unique to its client_id);
4. each share's timers fire at most once (one ``floor.warning``, one ``floor.expired``
   per grant), and a share whose deadline passed is ended (expired or released) within
   the slack;
5. nobody holds the floor after leaving (``participant.left`` of the holder without a
   release first);
6. every on-call escalation is paged (webhook) exactly once: one id per waiting person,
   and a webhook for every visit that waited past the escalation time.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Fingerprint = tuple[str, Any, str]


def fingerprint(event: Mapping[str, Any]) -> Fingerprint:
    return (str(event["type"]), event.get("actor"), json.dumps(event.get("data"), sort_keys=True))


@dataclass
class Record:
    """What one person's client saw and was told, in one room."""
    name: str
    room: str
    sessions: list[list[int]] = field(default_factory=list)
    log: dict[int, Fingerprint] = field(default_factory=dict)
    at: dict[int, int] = field(default_factory=dict)
    acked: dict[str, int] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    resets: int = 0


@dataclass
class Visit:
    """An on-call visit: who waited, from when to when (ms), never answered."""
    participant_id: str
    joined_ms: int
    left_ms: int


def check_logs(records: Sequence[Record]) -> list[str]:
    """Invariants 1 and 2."""
    out: list[str] = []
    by_room: dict[str, dict[int, tuple[Fingerprint, str]]] = defaultdict(dict)
    for r in records:
        room = by_room[r.room]
        for seq, fp in r.log.items():
            first = room.setdefault(seq, (fp, r.name))
            if first[0] != fp:
                out.append(f"{r.room} seq {seq}: {r.name} saw {fp[0]}, {first[1]} saw {first[0][0]}")
        for i, session in enumerate(r.sessions):
            for a, b in itertools.pairwise(session):
                if b != a + 1:
                    out.append(f"{r.room} {r.name} session {i}: seq {a} then {b}")
        seen = sorted(r.log)
        if seen and seen != list(range(seen[0], seen[-1] + 1)):
            missing = sorted(set(range(seen[0], seen[-1] + 1)) - set(seen))
            out.append(f"{r.room} {r.name}: gap, never received {missing[:5]}")
        if r.resets:
            out.append(f"{r.room} {r.name}: {r.resets} reset(s)")
    return out


def room_logs(records: Iterable[Record]) -> dict[str, dict[int, Fingerprint]]:
    """The union of what everyone in each room saw (check_logs proved it consistent)."""
    out: dict[str, dict[int, Fingerprint]] = defaultdict(dict)
    for r in records:
        out[r.room].update(r.log)
    return out


def check_acked(records: Sequence[Record]) -> list[str]:
    """Invariant 3."""
    out: list[str] = []
    logs = room_logs(records)
    texts_in: dict[str, Counter[str]] = {
        room: Counter(json.loads(fp[2]).get("text", "") for fp in log.values() if fp[0] == "chat.message")
        for room, log in logs.items()}
    for r in records:
        log = logs[r.room]
        for cid, seq in r.acked.items():
            text = r.texts[cid]
            fp = log.get(seq)
            if fp is None:
                out.append(f"{r.room} {r.name}: acked {cid} at seq {seq}, which nobody received")
            elif fp[0] != "chat.message" or json.loads(fp[2]).get("text") != text:
                out.append(f"{r.room} {r.name}: acked {cid} at seq {seq}, which holds {fp[0]}")
        for cid, text in r.texts.items():
            n = texts_in.get(r.room, Counter())[text]
            if n > 1:
                out.append(f"{r.room} {r.name}: client_id {cid} committed {n} times")
    return out


@dataclass
class _Share:
    holder: str
    granted_seq: int
    deadline: int | None
    warned: int = 0
    expired: int = 0
    late_reported: bool = False


def _close(room: str, share: _Share | None, out: list[str]) -> None:
    if share is None:
        return
    for what, n in (("warned", share.warned), ("expired", share.expired)):
        if n > 1:
            out.append(f"{room}: the share granted at seq {share.granted_seq} {what} {n} times")


def check_floor(logs: Mapping[str, Mapping[int, Fingerprint]], ats: Mapping[str, Mapping[int, int]],
                slack_ms: int) -> list[str]:
    """Invariants 4 and 5, over each room's log in seq order."""
    out: list[str] = []
    for room, log in logs.items():
        at = ats.get(room, {})
        share: _Share | None = None
        for seq in sorted(log):
            kind, _, raw = log[seq]
            data = json.loads(raw)
            if kind == "floor.granted":
                _close(room, share, out)
                share = _Share(data["participant_id"], seq, data.get("deadline"))
            elif share is not None and kind == "floor.extended":
                share.deadline = data.get("deadline")
            elif share is not None and kind == "floor.warning":
                share.warned += 1
            elif share is not None and kind == "floor.expired":
                share.expired += 1
            elif kind in ("floor.released", "room.ended"):
                _close(room, share, out)
                share = None
            elif share is not None and kind == "participant.left" and data.get("participant_id") == share.holder:
                out.append(f"{room} seq {seq}: {share.holder} left while holding the floor")
            if (share is not None and share.deadline is not None and not share.expired and not share.late_reported
                    and at.get(seq, 0) > share.deadline + slack_ms):
                out.append(f"{room}: the share granted at seq {share.granted_seq} (deadline {share.deadline}) "
                           f"had not expired by seq {seq}")
                share.late_reported = True
        _close(room, share, out)
    return out


def check_escalations(pages: Sequence[Mapping[str, Any]], visits: Sequence[Visit], escalate_ms: int,
                      slack_ms: int) -> list[str]:
    """Invariant 6: ``pages`` are the webhook bodies received (a repeat of one id is
    allowed: delivery is at least once, and receivers drop repeats by id)."""
    out: list[str] = []
    ids: dict[tuple[str, int], set[str]] = defaultdict(set)
    for p in pages:
        ids[(str(p["participant_id"]), int(p["waiting_since"]))].add(str(p["id"]))
    for (pid, since), got in ids.items():
        if len(got) > 1:
            out.append(f"escalation of {pid} waiting since {since} paged {len(got)} times")
    for v in visits:
        if v.left_ms - v.joined_ms < escalate_ms + slack_ms:
            continue
        if not any(pid == v.participant_id and v.joined_ms - slack_ms <= since <= v.left_ms
                   for pid, since in ids):
            out.append(f"{v.participant_id} waited {v.left_ms - v.joined_ms} ms and was never escalated")
    return out

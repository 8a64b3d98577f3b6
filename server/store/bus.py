"""The bus: one Redis pub/sub channel (``keys.BUS``) that every worker listens on. Its
message format is written and read here, and nowhere else.

Each message is ``<kind>|<origin>|...``, where ``origin`` tags the publishing worker's
store so that it can skip its own echo:

- ``E|<origin>|<room>|<JSON list of wire events>``: a committed batch of a room. The
  commit script publishes it, atomically with the commit, from ``events_prefix`` and the
  events it appends (so a committed batch is always published exactly once);
- ``N|<origin>|<JSON list of notices>``: the private notices of a commit (not in the log);
- ``M|<origin>|<worker>|<JSON object>``: audio signalling for one worker (``media/router.py``).

A message's body is decoded only by the worker that needs it: most workers have nobody
in most rooms, and skip those events without parsing them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from ..core.model import Notice, Target

EVENTS: Final = "E"
NOTICES: Final = "N"
MEDIA: Final = "M"


def events_prefix(origin: str, room: str) -> str:
    """The start of a room's events message; the commit script appends the JSON list."""
    return f"{EVENTS}|{origin}|{room}|"


def notices(origin: str, items: Sequence[Notice]) -> str:
    """Raises TypeError/ValueError when a notice's data is not JSON."""
    body = json.dumps([_notice_to_wire(n) for n in items], separators=(",", ":"), ensure_ascii=False)
    return f"{NOTICES}|{origin}|{body}"


def media(origin: str, worker: str, body: dict[str, Any]) -> str:
    return f"{MEDIA}|{origin}|{worker}|{json.dumps(body, separators=(',', ':'))}"


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    origin: str
    # The room of an events message, the worker of a media message; "" for notices.
    to: str
    body: str

    def events(self) -> list[dict[str, Any]]:
        return list(json.loads(self.body))

    def notices(self) -> list[Notice]:
        return [_notice_from_wire(d) for d in json.loads(self.body)]

    def media(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


def parse(data: str) -> Message:
    """The envelope of a bus message; the body stays text until asked for."""
    kind, _, rest = data.partition("|")
    origin, _, rest = rest.partition("|")
    if kind in (EVENTS, MEDIA):
        to, _, body = rest.partition("|")
        return Message(kind, origin, to, body)
    return Message(kind, origin, "", rest)


def _notice_to_wire(n: Notice) -> dict[str, Any]:
    return {"event": n.event, "to": dataclasses.asdict(n.to), "data": dict(n.data)}


def _notice_from_wire(d: dict[str, Any]) -> Notice:
    return Notice(event=d["event"], to=Target(**d["to"]), data=d["data"])

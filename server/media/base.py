"""The seam between the gateway and the media layer.

The gateway hands signalling to a ``Media`` and tells it about every committed event of
the rooms this worker serves; the media layer asks the core (``rules.audible``) who may
be heard and never decides it itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ..core.errors import CommandError


class Media(Protocol):
    async def offer(self, room: str, participant: str, sdp: str, type_: str) -> dict[str, Any]:
        """Answer a client's SDP offer: ``{"sdp": ..., "type": "answer"}``."""
        ...

    async def close(self, room: str, participant: str) -> None:
        """Stop this person's media in this room (left, removed, disconnected, rtc.close)."""
        ...

    def on_events(self, room: str, events: Sequence[dict[str, Any]]) -> None:
        """Committed events of a room with clients on this worker or media served here."""
        ...

    def serves(self, room: str) -> bool:
        """Whether this worker serves the room's media (and so needs its events)."""
        ...

    def recheck(self) -> None:
        """Events may have been missed (the bus was away): ask again who may be heard."""
        ...

    async def shutdown(self) -> None: ...


class NoMedia:
    """Text-only server: signalling is refused with a clear error."""

    async def offer(self, room: str, participant: str, sdp: str, type_: str) -> dict[str, Any]:
        raise CommandError("unavailable", "audio is not available on this server")

    async def close(self, room: str, participant: str) -> None:
        return None

    def on_events(self, room: str, events: Sequence[dict[str, Any]]) -> None:
        return None

    def serves(self, room: str) -> bool:
        return False

    def recheck(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

"""Typed errors of the core. Their codes are the wire error codes of the contract (§4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# Every code a client can see in an ack, from the contract.
CODES: Final = frozenset(
    {
        "invalid", "unauthorized", "forbidden", "not_found", "not_joined", "banned",
        "locked", "full", "lobby", "muted", "rate_limited", "too_large", "blocked",
        "held", "conflict", "unavailable", "internal", "expired",
    }
)


class CommandError(Exception):
    """A command the rules refuse. The state it was applied to is unchanged."""

    def __init__(self, code: str, message: str, extra: Mapping[str, Any] | None = None) -> None:
        if code not in CODES:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        # Fields the refusal's ack carries beside `error` (a held message's `id`).
        self.extra: Mapping[str, Any] = extra or {}

    def to_wire(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}

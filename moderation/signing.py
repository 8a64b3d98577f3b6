"""How Circles signs the HTTP calls it makes to a deployment's own services (the on-call
pager's webhook, the moderation webhook), and how a receiver checks one.

Every call carries three headers::

    X-Circles-Timestamp: 1764927000                       # Unix seconds when it was sent
    X-Circles-Signature-V2: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>
    X-Circles-Signature: sha256=<hex HMAC-SHA256(secret, body)>

A receiver checks ``X-Circles-Signature-V2`` and refuses a timestamp more than five
minutes from its own clock (``verify``): a captured call cannot be replayed later. The
older ``X-Circles-Signature`` (the body alone) is still sent for receivers written
before it; it proves who sent the body but not when, so it can be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Final

TIMESTAMP_HEADER: Final = "X-Circles-Timestamp"
SIGNATURE_HEADER: Final = "X-Circles-Signature-V2"
BODY_SIGNATURE_HEADER: Final = "X-Circles-Signature"
# How far a receiver should let a call's timestamp be from its own clock.
TOLERANCE_S: Final = 300


def _hmac(secret: str, data: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def sign_body(secret: str, body: bytes) -> str:
    """The older signature: the body alone (replayable; kept for existing receivers)."""
    return _hmac(secret, body)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return _hmac(secret, str(timestamp).encode() + b"." + body)


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The headers that sign ``body``, sent now."""
    ts = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(secret, ts, body),
            BODY_SIGNATURE_HEADER: sign_body(secret, body)}


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: float | None = None,
           tolerance_s: int = TOLERANCE_S) -> bool:
    """What a receiver does: the V2 signature matches and the call is recent."""
    raw_ts, given = headers.get(TIMESTAMP_HEADER, ""), headers.get(SIGNATURE_HEADER, "")
    if not raw_ts.isdigit() or not given:
        return False
    ts = int(raw_ts)
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        return False
    return hmac.compare_digest(given.encode(), sign(secret, ts, body).encode())

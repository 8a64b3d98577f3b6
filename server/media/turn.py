"""Short-lived TURN credentials (the "TURN REST API" that coturn's ``use-auth-secret``
mode checks): the username is ``<expiry>:<label>`` and the password the base64 of
HMAC-SHA1(secret, username). Circles and the TURN server share only the secret; every
credential runs out by itself, so a leaked one is useless after its ttl.

The label is random, never a name: the TURN server's log sees it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from typing import Any


def credentials(secret: str, ttl_s: int, now: float | None = None) -> tuple[str, str]:
    expiry = int(time.time() if now is None else now) + ttl_s
    username = f"{expiry}:{secrets.token_hex(6)}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


def ice_servers(urls: Sequence[str], secret: str | None, ttl_s: int, now: float | None = None) -> list[dict[str, Any]]:
    """The ``iceServers`` entry for a browser or a peer of the server: the TURN ``urls``
    with a fresh credential (none without a secret, or without urls)."""
    if not urls or not secret:
        return []
    username, password = credentials(secret, ttl_s, now)
    return [{"urls": list(urls), "username": username, "credential": password}]

"""Calls the deployment's on-call webhook when an escalation commits (contract §8).

The body carries ids and times only: no names, no text. It is signed with HMAC-SHA256
over the exact body bytes (header ``X-Circles-Signature: sha256=<hex>``), and retried
with backoff when the receiver fails, so that a flaky receiver still hears of a person
waiting. The call is made by the worker whose commit escalated, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any, Final

import aiohttp

log = logging.getLogger("circles.pager")

ATTEMPTS: Final = 4
TIMEOUT_S: Final = 5.0
BACKOFF_S: Final = (0.5, 2.0, 5.0)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookPager:
    def __init__(self, url: str | None, secret: str | None) -> None:
        self.url = url
        self.secret = secret or ""
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def page(self, data: Mapping[str, Any]) -> None:
        """Start the call in the background; the commit that escalated does not wait."""
        if not self.url:
            return
        task = asyncio.create_task(self._call(dict(data)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _call(self, data: dict[str, Any]) -> None:
        assert self.url is not None
        body = json.dumps({"event": "oncall.escalated", **data}, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Circles-Signature": sign(self.secret, body)}
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        for attempt in range(ATTEMPTS):
            try:
                async with self._session.post(self.url, data=body, headers=headers) as resp:
                    if resp.status < 300:
                        log.info("escalation webhook delivered", extra={"room": data.get("room"),
                                                                        "status": resp.status})
                        return
                    log.warning("escalation webhook refused", extra={"room": data.get("room"),
                                                                     "status": resp.status})
            except (aiohttp.ClientError, TimeoutError):
                log.warning("escalation webhook unreachable", extra={"room": data.get("room")})
            if attempt < len(BACKOFF_S):
                await asyncio.sleep(BACKOFF_S[attempt])
        log.error("escalation webhook failed after retries", extra={"room": data.get("room"), "count": ATTEMPTS})

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()

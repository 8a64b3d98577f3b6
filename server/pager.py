"""Calls the deployment's webhooks: the on-call one when an escalation commits (contract
§8), the schedules one when a circle's reminder falls due (``circle.starting``).

The body carries ids and times only: no names, no text. It is signed with HMAC-SHA256
over the send time and the exact body bytes (``moderation.signing``: headers
``X-Circles-Timestamp`` and ``X-Circles-Signature-V2``, so a captured call cannot be
replayed; and, for older receivers, ``X-Circles-Signature`` over the body alone). A
redirect is a failure, never followed: the page goes only to the configured URL.

The call is not made by the committing worker from memory: the escalation's commit
writes it to the store's outbox, in the same atomic step as the escalation itself, and
every worker's pager claims due calls from there (a claim hides a call from the other
workers for ``LEASE_MS``). So a worker that dies between the commit and the call, or
during it, does not lose the page: another worker's pager claims it when the lease runs
out. A receiver that fails is asked again every ``LEASE_MS`` until ``MAX_TRIES``. The
committing worker's pager is poked at once, so the usual delay is one HTTP request.
Delivery is at least once: the body's ``id`` lets a receiver drop a repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

import aiohttp

from moderation.signing import signed_headers

from .store import OutboxItem, Store, StoreUnavailable
from .tasks import TaskSet

log = logging.getLogger("circles.pager")

TIMEOUT_S: Final = 5.0
# A claimed call is hidden from other pagers this long: more than one attempt takes.
LEASE_MS: Final = 8_000
# Attempts before a call is given up (about ten minutes of a receiver failing).
MAX_TRIES: Final = 75
# With nothing poked, the outbox is looked at this often (calls of dead workers).
POLL_S: Final = 1.0


class Receiver(NamedTuple):
    url: str
    secret: str


class WebhookPager:
    """Makes the outbox's calls, each to the receiver configured for its event
    (``oncall.escalated``: ``[oncall]``; ``circle.starting``: ``[schedules]``); a call
    whose event has no receiver is dropped."""

    def __init__(self, store: Store, receivers: Mapping[str, Receiver]) -> None:
        self.store = store
        self.receivers = dict(receivers)
        self._session: aiohttp.ClientSession | None = None
        self._poke = asyncio.Event()
        self._tasks = TaskSet()

    def poke(self) -> None:
        """A commit wrote a call to the outbox: look now rather than at the next poll."""
        self._poke.set()

    async def run(self) -> None:
        """Forever: claim due calls and make them, each in its own task."""
        while True:
            self._poke.clear()
            try:
                for item in await self.store.claim_outbox(LEASE_MS):
                    self._tasks.spawn(self._deliver(item))
            except StoreUnavailable:
                pass  # the store's own warning says so; the calls wait in the outbox
            except Exception:
                log.exception("outbox claim failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_S):
                    await self._poke.wait()

    async def _deliver(self, item: OutboxItem) -> None:
        room, event = item.data.get("room"), item.event
        to = self.receivers.get(event)
        if to is None:
            await self._forget(item)  # no webhook configured for it: nothing to call
            return
        if await self._call(item, to):
            log.info("webhook delivered", extra={"room": room, "event": event, "count": item.tries})
            await self._forget(item)
        elif item.tries >= MAX_TRIES:
            log.error("webhook failed; given up", extra={"room": room, "event": event, "count": item.tries})
            await self._forget(item)
        # else: it stays in the outbox and is claimed again when its lease runs out

    async def _call(self, item: OutboxItem, to: Receiver) -> bool:
        body = json.dumps(body_of(item), separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", **signed_headers(to.secret, body)}
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        room = item.data.get("room")
        try:
            async with self._session.post(to.url, data=body, headers=headers, allow_redirects=False) as resp:
                if resp.status < 300:
                    return True
                log.warning("webhook refused", extra={"room": room, "event": item.event, "status": resp.status})
        except (aiohttp.ClientError, TimeoutError):
            log.warning("webhook unreachable", extra={"room": room, "event": item.event})
        return False

    async def _forget(self, item: OutboxItem) -> None:
        with contextlib.suppress(StoreUnavailable):
            await self.store.ack_outbox(item.key)

    async def close(self) -> None:
        await self._tasks.cancel_all()
        if self._session is not None:
            await self._session.close()


def body_of(item: OutboxItem) -> dict[str, Any]:
    """What the receiver gets for ``item`` (for tests and tools)."""
    return {"event": item.event, **item.data, "id": item.id}

"""Rate limit and slow mode, per (room, sender) and per sender, on the injected clock.

Sliding windows of accepted messages: at most ``per_10s`` in any 10 s in one room, and
at most ``per_person_10s`` in any 10 s across all rooms (a person's total: a token for
every room, ``*``, could otherwise open a fresh room, and a fresh window, every few
messages). Past either, BLOCK "rate_limited" with one "flood" alert per burst (re-armed
once the sender gets a message through again). Slow mode (``ctx.slow_mode_seconds`` >
0) allows one message per N seconds per member in a room; facilitators and responders
are exempt.

State lives in this object, per process. That is enough because a participant's socket
(and so every message it sends to a room) is served by one worker at a time; after a
failover the sender simply starts with a fresh window. Rooms with their own moderation
table run their own pipeline, so their own limiter: the per-person total covers every
room that shares the deployment's pipeline, which is every room made at run time.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Final

from pydantic import Field, model_validator

from ..options import HookOptions, read_table
from ..verdict import ALLOW, Action, Alert, MessageContext, Verdict

NAME: Final = "rate_limit"
WINDOW_MS: Final = 10_000
DEFAULT_PER_10S: Final = 5
# A person's total across rooms, unless set: twice one room's, so someone in two rooms
# at once (a member in their circle and the on-call room) is never held back by it.
PERSON_FACTOR: Final = 2
# Senders tracked at once. Each entry is a few hundred bytes, so this bounds the hook
# to a few MB however many people write; more than this many distinct senders inside
# one window would only reset the oldest one's count early.
DEFAULT_MAX_TRACKED: Final = 10_000
# Slow-mode gaps longer than a day are not remembered past a day.
MAX_SLOW_MODE_MS: Final = 86_400_000


@dataclass
class _Window:
    accepted: deque[int] = field(default_factory=deque)  # accept times inside the window
    last_accepted_ms: int | None = None
    last_seen_ms: int = 0  # last attempt, accepted or not: drives eviction
    flooding: bool = False  # a "flood" alert went out for the current burst

    def full(self, now: int, limit: int) -> bool:
        while self.accepted and self.accepted[0] <= now - WINDOW_MS:
            self.accepted.popleft()
        return len(self.accepted) >= limit


class _Windows:
    """Windows by key, oldest attempt first, forgotten when idle or too many."""

    def __init__(self, max_tracked: int) -> None:
        self.max_tracked = max_tracked
        self._items: OrderedDict[object, _Window] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def seen(self, key: object, now: int) -> _Window:
        window = self._items.get(key)
        if window is None:
            window = self._items[key] = _Window()
        else:
            self._items.move_to_end(key)
        window.last_seen_ms = now
        return window

    def evict(self, now: int, horizon_ms: int) -> None:
        # Entries are kept in order of last attempt, so the stale ones are at the front.
        cutoff = now - horizon_ms
        items = self._items
        while items:
            key, oldest = next(iter(items.items()))
            if oldest.last_seen_ms > cutoff and len(items) < self.max_tracked:
                break
            del items[key]


class RateLimitHook:
    """Sliding-window rate limits (per room and per person) plus slow mode."""

    def __init__(
        self,
        *,
        per_10s: int = DEFAULT_PER_10S,
        per_person_10s: int | None = None,
        max_tracked: int = DEFAULT_MAX_TRACKED,
        fail_open: bool = True,
        timeout_s: float = 1.0,
        name: str = NAME,
    ) -> None:
        if per_10s < 1:
            raise ValueError("per_10s must be at least 1")
        if per_person_10s is None:
            per_person_10s = per_10s * PERSON_FACTOR
        if per_person_10s < per_10s:
            raise ValueError("per_person_10s must be at least per_10s (a person's total covers one room)")
        if max_tracked < 1:
            raise ValueError("max_tracked must be at least 1")
        self.name = name
        # A broken limiter must not silence a whole room.
        self.fail_open = fail_open
        self.timeout_s = timeout_s
        self.per_10s = per_10s
        self.per_person_10s = per_person_10s
        self.max_tracked = max_tracked
        self._senders = _Windows(max_tracked)  # by (room, sender)
        self._people = _Windows(max_tracked)  # by sender
        self._horizon_ms = WINDOW_MS

    @property
    def tracked(self) -> int:
        """How many (room, sender) pairs are remembered now."""
        return len(self._senders)

    async def check(self, ctx: MessageContext) -> Verdict:
        return self.judge(ctx)

    def judge(self, ctx: MessageContext) -> Verdict:
        now = ctx.now_ms
        slow_ms = min(max(ctx.slow_mode_seconds, 0) * 1000, MAX_SLOW_MODE_MS)
        self._horizon_ms = max(self._horizon_ms, slow_ms)
        self._senders.evict(now, self._horizon_ms)
        self._people.evict(now, WINDOW_MS)

        sender = self._senders.seen((ctx.room, ctx.sender_id), now)
        person = self._people.seen(ctx.sender_id, now)
        for window, limit in ((sender, self.per_10s), (person, self.per_person_10s)):
            if window.full(now, limit):
                alerts: tuple[Alert, ...] = ()
                if not window.flooding:
                    window.flooding = True
                    alerts = (Alert("flood", f"more than {limit} messages in 10 s"),)
                return Verdict(Action.BLOCK, reason="rate_limited", alerts=alerts)

        if (
            slow_ms > 0
            and not ctx.is_staff
            and sender.last_accepted_ms is not None
            and now - sender.last_accepted_ms < slow_ms
        ):
            return Verdict(Action.BLOCK, reason="slow_mode")

        for window in (sender, person):
            window.accepted.append(now)
            window.last_accepted_ms = now
            window.flooding = False
        return ALLOW


class RateLimitOptions(HookOptions):
    """``[moderation.rate_limit]``."""

    fail_open: bool = True
    per_10s: Annotated[int, Field(ge=1, le=1000)] = DEFAULT_PER_10S
    # Default: PERSON_FACTOR times per_10s.
    per_person_10s: Annotated[int, Field(le=1000 * PERSON_FACTOR)] | None = None
    max_tracked: Annotated[int, Field(ge=1, le=10_000_000)] = DEFAULT_MAX_TRACKED

    @model_validator(mode="after")
    def _person_covers_a_room(self) -> RateLimitOptions:
        if self.per_person_10s is not None and self.per_person_10s < self.per_10s:
            raise ValueError(f"per_person_10s must be at least per_10s ({self.per_10s}), got {self.per_person_10s}")
        return self


def from_options(options: Mapping[str, Any], name: str = NAME) -> RateLimitHook:
    opts = read_table(RateLimitOptions, options, f"[moderation.{name}]")
    return RateLimitHook(
        per_10s=opts.per_10s,
        per_person_10s=opts.per_person_10s if opts.per_person_10s is not None else opts.per_10s * PERSON_FACTOR,
        max_tracked=opts.max_tracked,
        fail_open=opts.fail_open,
        timeout_s=opts.timeout_s,
        name=name,
    )

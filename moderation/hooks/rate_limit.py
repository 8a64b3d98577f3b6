"""Rate limit and slow mode, per (room, sender), on the injected clock.

A sliding window of accepted messages: at most ``per_10s`` in any 10 s, else BLOCK
"rate_limited" (with one "flood" alert per burst: the alert is re-armed once the
sender gets a message through again). Slow mode (``ctx.slow_mode_seconds`` > 0) allows
one message per N seconds per member; facilitators and responders are exempt.

State lives in this object, per process. That is enough because a participant's socket
(and so every message it sends to a room) is served by one worker at a time; after a
failover the sender simply starts with a fresh window.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..options import OptionTable
from ..verdict import ALLOW, Action, Alert, MessageContext, Verdict

NAME: Final = "rate_limit"
WINDOW_MS: Final = 10_000
DEFAULT_PER_10S: Final = 5
# Senders tracked at once. Each entry is a few hundred bytes, so this bounds the hook
# to a few MB however many people write; more than this many distinct senders inside
# one window would only reset the oldest one's count early.
DEFAULT_MAX_TRACKED: Final = 10_000
# Slow-mode gaps longer than a day are not remembered past a day.
MAX_SLOW_MODE_MS: Final = 86_400_000


@dataclass
class _Sender:
    accepted: deque[int] = field(default_factory=deque)  # accept times inside the window
    last_accepted_ms: int | None = None
    last_seen_ms: int = 0  # last attempt, accepted or not: drives eviction
    flooding: bool = False  # a "flood" alert went out for the current burst


class RateLimitHook:
    """Sliding-window rate limit plus slow mode."""

    def __init__(
        self,
        *,
        per_10s: int = DEFAULT_PER_10S,
        max_tracked: int = DEFAULT_MAX_TRACKED,
        fail_open: bool = True,
        timeout_s: float = 1.0,
        name: str = NAME,
    ) -> None:
        if per_10s < 1:
            raise ValueError("per_10s must be at least 1")
        if max_tracked < 1:
            raise ValueError("max_tracked must be at least 1")
        self.name = name
        # A broken limiter must not silence a whole room.
        self.fail_open = fail_open
        self.timeout_s = timeout_s
        self.per_10s = per_10s
        self.max_tracked = max_tracked
        self._senders: OrderedDict[tuple[str, str], _Sender] = OrderedDict()
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
        self._evict(now)

        key = (ctx.room, ctx.sender_id)
        sender = self._senders.get(key)
        if sender is None:
            sender = self._senders[key] = _Sender()
        else:
            self._senders.move_to_end(key)
        sender.last_seen_ms = now

        while sender.accepted and sender.accepted[0] <= now - WINDOW_MS:
            sender.accepted.popleft()

        if len(sender.accepted) >= self.per_10s:
            alerts: tuple[Alert, ...] = ()
            if not sender.flooding:
                sender.flooding = True
                alerts = (Alert("flood", f"more than {self.per_10s} messages in 10 s"),)
            return Verdict(Action.BLOCK, reason="rate_limited", alerts=alerts)

        if (
            slow_ms > 0
            and not ctx.is_staff
            and sender.last_accepted_ms is not None
            and now - sender.last_accepted_ms < slow_ms
        ):
            return Verdict(Action.BLOCK, reason="slow_mode")

        sender.accepted.append(now)
        sender.last_accepted_ms = now
        sender.flooding = False
        return ALLOW

    def _evict(self, now: int) -> None:
        # Entries are kept in order of last attempt, so the stale ones are at the front.
        cutoff = now - self._horizon_ms
        senders = self._senders
        while senders:
            key, oldest = next(iter(senders.items()))
            if oldest.last_seen_ms > cutoff and len(senders) < self.max_tracked:
                break
            del senders[key]


def from_options(options: Mapping[str, Any], name: str = NAME) -> RateLimitHook:
    table = OptionTable(options, f"[moderation.{name}]")
    fail_open, timeout_s = table.read_policy(fail_open=True, timeout_s=1.0)
    hook = RateLimitHook(
        per_10s=table.get_int("per_10s", DEFAULT_PER_10S, minimum=1, maximum=1000),
        max_tracked=table.get_int("max_tracked", DEFAULT_MAX_TRACKED, minimum=1, maximum=10_000_000),
        fail_open=fail_open,
        timeout_s=timeout_s,
        name=name,
    )
    table.finish()
    return hook

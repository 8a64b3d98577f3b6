"""How much one connection, one person and one address may ask of this worker.

A flood guard per connection alone is no guard: one member link opens ten sockets and
gets ten buckets (issue 12: 550 reports in 6 s). So every command takes a token from three
buckets: its connection's, its person's (the token's ``sub``, across all their
connections here) and its address's; and a person and an address may hold only so many
connections at once. Limits are per worker: a person who spreads sockets over N workers
gets N times the rate, which the per-room rules and moderation's own per-sender limits
bound further; a shared counter in Redis would cost a round trip per command.

The address is the TCP peer, or, when the peer is a proxy the deployment trusts (a TLS
front such as Caddy), the last address that proxy put in ``X-Forwarded-For``; without
that every person behind the front would share one address and one bucket.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Final


@dataclass(frozen=True)
class Limits:
    # One connection: a person types far slower; a script gets `rate_limited`.
    conn_burst: int = 30
    conn_per_s: float = 10.0
    # One person across their connections: a phone and a laptop, a reconnect overlapping
    # the old socket, with room to spare; not ten sockets' worth.
    person_burst: int = 45
    person_per_s: float = 12.0
    # Sockets one person may hold on this worker at once (the dead socket of a phone
    # that changed network lingers until its ping timeout, about 45 s).
    person_conns: int = 8
    # One address: a centre's shared Wi-Fi may carry a whole circle and its on-call room.
    address_burst: int = 600
    address_per_s: float = 200.0
    address_conns: int = 1000
    # What may wait for one connection before it is dropped as a slow reader
    # (``wsdriver.DirectQueue``).
    send_buffer_bytes: int = 2 * 1024 * 1024
    # Rooms in the store at once, and rooms one facilitator may open by joining, per
    # hour on a worker (``RoomService``).
    max_rooms: int = 1000
    rooms_made_per_hour: int = 10

    INTS: ClassVar = ("conn_burst", "person_burst", "person_conns", "address_burst", "address_conns", "max_rooms",
            "rooms_made_per_hour")
    RATES: ClassVar = ("conn_per_s", "person_per_s", "address_per_s")

    def __post_init__(self) -> None:
        for name in self.INTS:
            if not 1 <= getattr(self, name) <= 1_000_000:
                raise ValueError(f"{name} must be from 1 to 1000000")
        for name in self.RATES:
            if not 0 < getattr(self, name) <= 1_000_000:
                raise ValueError(f"{name} must be above 0 (and at most 1000000)")
        if not 64 * 1024 <= self.send_buffer_bytes <= 1 << 30:
            raise ValueError("send_buffer_bytes must be from 65536 to 1073741824")


class TokenBucket:
    """``burst`` at once, refilled at ``per_s``; ``take`` says whether one is left."""

    __slots__ = ("at", "burst", "per_s", "tokens")

    def __init__(self, burst: int, per_s: float, now: float) -> None:
        self.burst = burst
        self.per_s = per_s
        self.tokens = float(burst)
        self.at = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.per_s)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def full(self, now: float) -> bool:
        return self.tokens + (now - self.at) * self.per_s >= self.burst


# Every this many closed connections, idle holders are swept (see ``Guard.sweep``).
SWEEP_EVERY: Final = 1024


class Holder:
    """What a person or an address holds: a bucket and a count of open connections."""

    __slots__ = ("bucket", "conns")

    def __init__(self, bucket: TokenBucket) -> None:
        self.bucket = bucket
        self.conns = 0


class Guard:
    """Connection counts and buckets by person and by address on this worker."""

    def __init__(self, limits: Limits | None = None, now: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or Limits()
        self.now = now
        self.people: dict[str, Holder] = {}
        self.addresses: dict[str, Holder] = {}
        self._closes = 0

    def connection_bucket(self) -> TokenBucket:
        return TokenBucket(self.limits.conn_burst, self.limits.conn_per_s, self.now())

    def _holder(self, table: dict[str, Holder], key: str, burst: int, per_s: float) -> Holder:
        h = table.get(key)
        if h is None:
            h = table[key] = Holder(TokenBucket(burst, per_s, self.now()))
        return h

    def open(self, person: str, address: str) -> str | None:
        """Count a new connection; a reason to refuse it if a limit is reached."""
        lim = self.limits
        p = self._holder(self.people, person, lim.person_burst, lim.person_per_s)
        a = self._holder(self.addresses, address, lim.address_burst, lim.address_per_s)
        if p.conns >= lim.person_conns:
            self._forget_idle(person, address)
            return "too many connections for one person"
        if a.conns >= lim.address_conns:
            self._forget_idle(person, address)
            return "too many connections from one address"
        p.conns += 1
        a.conns += 1
        return None

    def close(self, person: str, address: str) -> None:
        for table, key in ((self.people, person), (self.addresses, address)):
            h = table.get(key)
            if h is not None:
                h.conns -= 1
        self._forget_idle(person, address)
        self._closes += 1
        if self._closes % SWEEP_EVERY == 0:
            self.sweep()

    def sweep(self) -> None:
        """Forget every idle holder whose bucket is full again (a holder left refilling
        when its last connection closed would otherwise stay)."""
        now = self.now()
        for table in (self.people, self.addresses):
            for key in [k for k, h in table.items() if h.conns <= 0 and h.bucket.full(now)]:
                del table[key]

    def _forget_idle(self, person: str, address: str) -> None:
        # A holder with no connection is kept only while its bucket is still refilling,
        # so that closing and reopening sockets does not hand out fresh buckets.
        now = self.now()
        for table, key in ((self.people, person), (self.addresses, address)):
            h = table.get(key)
            if h is not None and h.conns <= 0 and h.bucket.full(now):
                del table[key]

    def take(self, conn_bucket: TokenBucket, person: str, address: str) -> bool:
        """One command: a token from the connection's, the person's and the address's buckets."""
        now = self.now()
        p, a = self.people.get(person), self.addresses.get(address)
        return (conn_bucket.take(now) and (p is None or p.bucket.take(now))
                and (a is None or a.bucket.take(now)))


def _parse(addr: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(addr.strip().strip("[]"))
    except ValueError:
        return None


Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

UNKNOWN_ADDRESS: Final = "unknown"


def trusted_networks(specs: Iterable[str]) -> Networks:
    """``["127.0.0.1", "10.0.0.0/8"]`` as networks; raises ValueError on a bad entry."""
    return tuple(ipaddress.ip_network(s, strict=False) for s in specs)


def client_address(request: Any, trusted: Networks) -> str:
    """The client's address: the peer, or what trusted proxies say was before them."""
    peer = _parse(request.remote or "") if request is not None else None
    if peer is None:
        return UNKNOWN_ADDRESS
    hops = [h for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    addr = peer
    # Walk back from the nearest hop while the hop that told us is a trusted proxy.
    while hops and any(addr in net for net in trusted):
        prev = _parse(hops.pop())
        if prev is None:
            break
        addr = prev
    return str(addr)

"""The cluster store: room state, logs, timers and the audit log in Redis.

Any number of workers share one Redis. What makes that safe is the commit: one Lua
script that checks the stored version, then writes the state, appends the events to the
room's stream (ids ``<seq>-0``), sets the room's deadline, appends the audit entries,
refreshes every TTL and publishes the batch on the bus, all in one atomic step and one
round trip. A stale writer gets 0 and the service retries on fresh state, so a ``seq`` is
never used twice and a timer fires once however many workers tick it.

Redis going away must never hang a command: sockets time out within a second, one
retry at most, and every connection error surfaces as ``StoreUnavailable`` (the client
gets ``unavailable``). The commit is idempotent (a token per commit), so the retry of a
commit whose reply was lost cannot apply a command twice.

Key layout: ``keys.py``.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final, cast
from urllib.parse import parse_qs, unquote, urlsplit

import redis.asyncio as aioredis
from redis import exceptions as rex
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff, NoBackoff

from ..core.model import CLIENT_IDS_KEPT, AuditEntry, Event, RoomState
from ..core.outcome import Outcome
from . import bus, keys
from .base import (
    AUDIT_KEPT,
    AUDIT_MAX,
    AUDIT_PAGE_MAX,
    AttendanceRow,
    AuditCursor,
    AuditFilter,
    AuditPage,
    Held,
    OutboxItem,
    StoreUnavailable,
    audit_class,
    outbox_keys,
    page_of,
)

log = logging.getLogger("circles.store.redis")

# A store operation that has no answer within this long fails (`unavailable`) rather
# than hang; a healthy Redis on a LAN answers in well under a millisecond. It bounds the
# whole operation, retries included. (It is an asyncio timeout around the operation,
# not redis-py's socket_timeout: with that set, redis-py sends through asyncio.wait_for,
# which on Python 3.11 can swallow a task's cancellation, and a worker then cannot stop.)
OP_TIMEOUT_S: Final = 1.5
CONNECT_TIMEOUT_S: Final = 0.5
# One quick retry rides over a dropped connection (a Redis restart, a failover).
RETRIES: Final = 1
# Log entries ``recent_chat`` looks back through at most: the retained log, not more.
RECENT_SCAN_MAX: Final = 2 * keys.LOG_MAXLEN
# Rooms whose audit one round trip reads when a read merges several.
AUDIT_ROOMS_PER_READ: Final = 32
# Entries a room's ring is first read for; each further read of that room doubles it, so
# one busy room costs a few round trips and many rooms of one moment little each.
AUDIT_FIRST_READ: Final = 16
WARN_EVERY_S: Final = 5.0
# Replication is asynchronous: a change the primary acknowledged but had not yet sent
# to a replica is lost when that replica is promoted. With ``replica_acks`` (default 1),
# a commit waits (``WAIT``) until that many replicas hold it before anyone hears of it,
# and answers ``unavailable`` when they do not within this long.
REPLICA_ACK_TIMEOUT_MS: Final = 500
# How often the number of replicas connected to the primary is read again (``ROLE``):
# with none (a single Redis, or a primary whose replicas are all gone) nothing waits.
ROLE_EVERY_S: Final = 1.0
# Batches kept to publish once a replica confirms them (``republish``); past it, the
# oldest reach other workers with their room's next event instead.
UNPUBLISHED_KEPT: Final = 1000

# Errors that mean "Redis cannot be reached now", as opposed to a bug in our use of it.
UNREACHABLE: Final = (rex.ConnectionError, rex.TimeoutError, rex.ReadOnlyError, OSError)

_CREATE: Final = """
-- KEYS: room, log, rooms, timers, held. ARGV: state, version, seq, deadline|'', ttl, room id, token
local v = redis.call('HGET', KEYS[1], 'version')
if v then
  if redis.call('HGET', KEYS[1], 'commit') == ARGV[7] then return 1 end  -- our own retry
  return 0
end
redis.call('DEL', KEYS[2], KEYS[5])  -- left over from an earlier room of the same id
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'version', ARGV[2], 'seq', ARGV[3], 'commit', ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SADD', KEYS[3], ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[6])
  redis.call('PEXPIRE', KEYS[4], ARGV[5])
end
return 1
"""

_COMMIT: Final = """
-- KEYS: 1 room, 2 log, 3 rooms, 4 timers, 5 the room's audit actions, 6 outbox,
--       7 client ids, 8 client id order, 9 the room's audit signals, 10 audit rooms,
--       11 audit sizes, 12 audit total, 13 audit ids, 14 held texts
-- ARGV: 1 expected version, 2 new version, 3 commit token, 4 state JSON, 5 seq,
--       6 deadline|'', 7 ttl ms, 8 log maxlen, 9 audit retention ms, 10 audit max,
--       11 room id, 12 bus channel|'', 13 bus message prefix,
--       14 n events, then (seq, type, JSON) per event, then n audit, then (if any)
--       actions kept, signals kept, action key prefix, signal key prefix, and (at, class,
--       JSON) per entry, then n webhook calls, then their members, then the outbox ttl
--       (if any), then n client ids, then (key, seq) per id, then how many to keep (if any),
--       then n held texts, then (id, text) per text, then n held dropped, then their ids
local room, logk, ttl = KEYS[1], KEYS[2], ARGV[7]
local v = redis.call('HGET', room, 'version')
if not v then return 0 end
if v ~= ARGV[1] then
  -- The same commit again (a retry whose first reply was lost) succeeded already.
  if v == ARGV[2] and redis.call('HGET', room, 'commit') == ARGV[3] then return 1 end
  return 0
end
local n = tonumber(ARGV[14])
local i = 15
if n > 0 then
  local top = redis.call('XREVRANGE', logk, '+', '-', 'COUNT', 1)
  if #top > 0 and tonumber(string.match(top[1][1], '^%d+')) >= tonumber(ARGV[i]) then
    redis.call('DEL', logk)  -- left over from an earlier room of the same id
  end
  local jsons = {}
  for k = 1, n do
    redis.call('XADD', logk, 'MAXLEN', '~', ARGV[8], ARGV[i] .. '-0', 't', ARGV[i + 1], 'e', ARGV[i + 2])
    jsons[k] = ARGV[i + 2]
    i = i + 3
  end
  if ARGV[12] ~= '' then
    redis.call('PUBLISH', ARGV[12], ARGV[13] .. '[' .. table.concat(jsons, ',') .. ']')
  end
end
redis.call('HSET', room, 'state', ARGV[4], 'version', ARGV[2], 'seq', ARGV[5], 'commit', ARGV[3])
-- A room's keys live and die together: every commit refreshes them all.
for _, key in ipairs({room, logk, KEYS[7], KEYS[8], KEYS[14]}) do redis.call('PEXPIRE', key, ttl) end
redis.call('SADD', KEYS[3], ARGV[11])
redis.call('PEXPIRE', KEYS[3], ttl)
if ARGV[6] == '' then
  redis.call('ZREM', KEYS[4], ARGV[11])
else
  redis.call('ZADD', KEYS[4], ARGV[6], ARGV[11])
  redis.call('PEXPIRE', KEYS[4], ttl)
end
local na = tonumber(ARGV[i])
i = i + 1
if na > 0 then
  -- The audit (rules in base.py): per room and class, capped; then the total, fairly.
  local retention, most, id = tonumber(ARGV[9]), tonumber(ARGV[10]), ARGV[11]
  local ring = {action = KEYS[5], signal = KEYS[9]}
  local kept = {action = tonumber(ARGV[i]), signal = tonumber(ARGV[i + 1])}
  local aprefix, sprefix = ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  local newest = tonumber(redis.call('ZSCORE', KEYS[10], id) or '0')
  for k = 1, na do
    local at = tonumber(ARGV[i])
    local n = redis.call('INCR', KEYS[13])
    redis.call('ZADD', ring[ARGV[i + 1]], ARGV[i], string.format('%016x|', n) .. ARGV[i + 2])
    if at > newest then newest = at end
    i = i + 3
  end
  local cutoff = string.format('(%d', newest - retention)
  local size = 0
  for cls, key in pairs(ring) do
    redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
    redis.call('ZREMRANGEBYRANK', key, 0, -(kept[cls] + 1))
    size = size + redis.call('ZCARD', key)
    redis.call('PEXPIRE', key, retention)
  end
  local total = redis.call('INCRBY', KEYS[12], size - tonumber(redis.call('ZSCORE', KEYS[11], id) or '0'))
  redis.call('ZADD', KEYS[10], newest, id)
  redis.call('ZADD', KEYS[11], size, id)
  -- Rooms whose newest entry is past retention go whole.
  for _, r in ipairs(redis.call('ZRANGEBYSCORE', KEYS[10], '-inf', cutoff)) do
    redis.call('DEL', aprefix .. r, sprefix .. r)
    total = redis.call('INCRBY', KEYS[12], -tonumber(redis.call('ZSCORE', KEYS[11], r) or '0'))
    redis.call('ZREM', KEYS[10], r)
    redis.call('ZREM', KEYS[11], r)
  end
  -- Past the total, the room holding the most gives up its oldest, signals first, down
  -- to the next largest room's size at most, until the total fits.
  while total > most do
    local top = redis.call('ZREVRANGE', KEYS[11], 0, 1, 'WITHSCORES')
    if #top == 0 then break end
    local r, has = top[1], tonumber(top[2])
    local take = math.min(total - most, math.max(1, has - tonumber(top[4] or '0')))
    for _, key in ipairs({sprefix .. r, aprefix .. r}) do
      local n = math.min(take, redis.call('ZCARD', key))
      if n > 0 then redis.call('ZREMRANGEBYRANK', key, 0, n - 1) end
      take = take - n
    end
    local left = redis.call('ZCARD', sprefix .. r) + redis.call('ZCARD', aprefix .. r)
    total = redis.call('INCRBY', KEYS[12], left - has)
    if left == 0 then
      redis.call('ZREM', KEYS[10], r)
      redis.call('ZREM', KEYS[11], r)
    else
      redis.call('ZADD', KEYS[11], left, r)
    end
  end
  for k = 10, 13 do redis.call('PEXPIRE', KEYS[k], retention) end
end
local nw = tonumber(ARGV[i])
i = i + 1
if nw > 0 then
  for k = 1, nw do
    redis.call('ZADD', KEYS[6], 0, ARGV[i])
    i = i + 1
  end
  redis.call('PEXPIRE', KEYS[6], ARGV[i])
  i = i + 1
end
local nc = tonumber(ARGV[i])
i = i + 1
if nc > 0 then
  for k = 1, nc do
    if redis.call('HSET', KEYS[7], ARGV[i], ARGV[i + 1]) == 1 then
      redis.call('RPUSH', KEYS[8], ARGV[i])
    end
    i = i + 2
  end
  local kept = tonumber(ARGV[i])
  i = i + 1
  while redis.call('LLEN', KEYS[8]) > kept do
    redis.call('HDEL', KEYS[7], redis.call('LPOP', KEYS[8]))
  end
  redis.call('PEXPIRE', KEYS[7], ttl)
  redis.call('PEXPIRE', KEYS[8], ttl)
end
local nh = tonumber(ARGV[i])
i = i + 1
for k = 1, nh do
  redis.call('HSET', KEYS[14], ARGV[i], ARGV[i + 1])
  i = i + 2
end
if nh > 0 then redis.call('PEXPIRE', KEYS[14], ttl) end
local nd = tonumber(ARGV[i])
i = i + 1
for k = 1, nd do
  redis.call('HDEL', KEYS[14], ARGV[i])
  i = i + 1
end
return 1
"""

_CLAIM: Final = """
-- KEYS: outbox, tries. ARGV: lease ms, limit, ttl ms. Returns key, tries, key, tries...
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local out = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, ARGV[2])) do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), m)
  out[#out + 1] = m
  out[#out + 1] = redis.call('HINCRBY', KEYS[2], m, 1)
end
if #out > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return out
"""

_ATTEND: Final = """
-- ARGV: op (open|close|share), key prefix, room, participant, date, now ms, ttl ms.
-- Keys are named here (the open interval's date picks the record); see keys.attendance_*.
local op, p, room, who, date = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, ttl = tonumber(ARGV[6]), tonumber(ARGV[7])
local open = p .. 'open:' .. room .. '|' .. who
local function rec(d)
  local k = p .. 'rec:' .. room .. '|' .. d .. '|' .. who
  redis.call('HSETNX', k, 'ms', 0)
  redis.call('HSETNX', k, 'shared', 0)
  redis.call('PEXPIRE', k, ttl)
  local mine = p .. 'mine:' .. who
  redis.call('ZADD', mine, now + ttl, room .. '|' .. d)
  redis.call('PEXPIRE', mine, ttl)
  local byroom = p .. 'room:' .. room
  redis.call('ZADD', byroom, now + ttl, d .. '|' .. who)
  redis.call('PEXPIRE', byroom, ttl)
  redis.call('PEXPIRE', p .. 'follow:' .. who, ttl)  -- an opt-in lasts while they come
  return k
end
local o = redis.call('HMGET', open, 'date', 'since')
if op == 'open' then
  if not o[1] then
    redis.call('HSET', open, 'date', date, 'since', now)
    o[1] = date
  end
  redis.call('PEXPIRE', open, ttl)
  rec(o[1])
elseif op == 'close' then
  if o[1] then
    local k = rec(o[1])
    redis.call('HINCRBY', k, 'ms', math.max(0, now - tonumber(o[2])))
    redis.call('DEL', open)
  end
elseif op == 'share' then
  local k = rec(o[1] or date)
  redis.call('HSET', k, 'shared', 1)
end
return 1
"""

_RECENT_CHAT: Final = """
-- KEYS: log. ARGV: how many, scan at most. Newest first.
local out, last, scanned = {}, '+', 0
local want, most = tonumber(ARGV[1]), tonumber(ARGV[2])
while #out < want and scanned < most do
  local batch = redis.call('XREVRANGE', KEYS[1], last, '-', 'COUNT', 200)
  if #batch == 0 then break end
  for _, entry in ipairs(batch) do
    local f = entry[2]
    local typ, json
    for j = 1, #f, 2 do
      if f[j] == 't' then typ = f[j + 1] elseif f[j] == 'e' then json = f[j + 1] end
    end
    if typ == 'chat.message' then
      out[#out + 1] = json
      if #out >= want then break end
    end
  end
  scanned = scanned + #batch
  last = '(' .. batch[#batch][1]
end
return out
"""

_AUDIT_READ: Final = """
-- KEYS: audit rings (of any rooms). ARGV: 1 oldest score, then per key: newest score
-- ('+inf' or a cursor's at), the cursor's id as 16 hex digits ('' for none), how many.
-- Per key, the newest members under its cursor, newest first: a list per key.
local out = {}
for k, key in ipairs(KEYS) do
  local top, cid, most = ARGV[3 * k - 1], ARGV[3 * k], tonumber(ARGV[3 * k + 1])
  local at = tonumber(top)
  local got, offset, list = 0, 0, {}
  while got < most do
    local batch = redis.call('ZREVRANGEBYSCORE', key, top, ARGV[1], 'WITHSCORES', 'LIMIT', offset, most)
    if #batch == 0 then break end
    for j = 1, #batch, 2 do
      local m = batch[j]
      -- Entries of the cursor's own moment come before it only with a smaller id.
      if cid == '' or tonumber(batch[j + 1]) ~= at or string.sub(m, 1, 16) < cid then
        got = got + 1
        list[got] = m
        if got >= most then break end
      end
    end
    offset = offset + #batch / 2
  end
  out[k] = list
end
return out
"""

_DUE: Final = """
-- KEYS: timers. ARGV: now, limit, room key prefix.
-- Rooms whose key expired (idle for a week) leave the timers here.
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])) do
  if redis.call('EXISTS', ARGV[3] .. id) == 1 then
    out[#out + 1] = id
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_last_warning = 0.0


@asynccontextmanager
async def unreachable_is_unavailable(what: str, timeout: float = OP_TIMEOUT_S) -> AsyncIterator[None]:
    """Bound a Redis operation in time, and turn "cannot reach Redis" into
    ``StoreUnavailable``; let real bugs through."""
    global _last_warning
    try:
        async with asyncio.timeout(timeout):
            yield
    except StoreUnavailable:
        raise
    except UNREACHABLE as e:
        # Every command fails while Redis is away: say so, but not thousands of times.
        if time.monotonic() - _last_warning > WARN_EVERY_S:
            _last_warning = time.monotonic()
            log.warning("redis unreachable", extra={"event": what, "reason": type(e).__name__})
        raise StoreUnavailable(f"redis: {type(e).__name__}") from None


# -- connecting --------------------------------------------------------------------------------

@dataclass
class Connector:
    """Makes Redis clients for one URL: ``redis://``, ``rediss://``, ``unix://`` or
    ``redis+sentinel://[user:password@]host:port[,host:port...]/service[/db]``.

    Sentinel URLs may carry ``?sentinel_password=...`` when the sentinels need one; the
    credentials before ``@`` are the primary's.
    """

    url: str
    _sentinels: list[Sentinel] = field(default_factory=list)

    def options(self, retries: int) -> dict[str, Any]:
        return {
            "decode_responses": True,
            # None, not redis-py's default (5 s): see OP_TIMEOUT_S.
            "socket_timeout": None,
            "socket_connect_timeout": CONNECT_TIMEOUT_S,
            "socket_keepalive": True,
            "retry": Retry(ExponentialBackoff(cap=0.1, base=0.02), retries),
        }

    def client(self, retries: int = RETRIES) -> aioredis.Redis:
        if self.url.startswith("redis+sentinel://"):
            return self._sentinel_client(retries)
        opts = self.options(retries)
        if self.url.startswith("unix://"):
            del opts["socket_keepalive"]  # a TCP option
        return aioredis.Redis.from_url(self.url, **opts)

    def _sentinel_client(self, retries: int) -> aioredis.Redis:
        parts = urlsplit(self.url)
        netloc = parts.netloc
        username = password = None
        if "@" in netloc:
            creds, netloc = netloc.rsplit("@", 1)
            user, _, pw = creds.partition(":")
            username, password = unquote(user) or None, unquote(pw) or None
        hosts: list[tuple[str, int]] = []
        for hp in netloc.split(","):
            host, sep, port = hp.rpartition(":")
            if not sep:
                host, port = hp, "26379"
            if not host:
                raise ValueError("a redis+sentinel URL needs host:port of at least one sentinel")
            hosts.append((host.strip("[]"), int(port)))
        path = [p for p in parts.path.split("/") if p]
        if not path:
            raise ValueError("a redis+sentinel URL ends with /<service name>")
        service = unquote(path[0])
        db = int(path[1]) if len(path) > 1 else 0
        query = parse_qs(parts.query)
        opts = self.options(retries)
        sentinel_opts = {k: v for k, v in opts.items() if k.startswith("socket_")}
        # Sentinel look-ups run inside the caller's operation timeout; this bounds one
        # sentinel that accepts but never answers, so the next one gets its turn.
        sentinel_opts["socket_timeout"] = CONNECT_TIMEOUT_S
        # A sentinel that does not answer is skipped for the next one, not retried.
        sentinel_opts["retry"] = Retry(NoBackoff(), 0)
        if "sentinel_password" in query:
            sentinel_opts["password"] = query["sentinel_password"][0]
        # One Sentinel (and its connections to the sentinels) per URL, however many
        # clients are made: the bus makes a new client after every drop.
        if not self._sentinels:
            self._sentinels.append(Sentinel(hosts, sentinel_kwargs=sentinel_opts))
        sentinel = self._sentinels[0]
        client = sentinel.master_for(service, username=username, password=password, db=db, **opts)
        return cast(aioredis.Redis, client)

    async def close(self) -> None:
        for s in self._sentinels:
            for c in s.sentinels:
                await c.aclose()
        self._sentinels.clear()


# -- the store ----------------------------------------------------------------------------------

class RedisStore:
    def __init__(self, connector: Connector, *, audit_retention_ms: int = 30 * 86_400_000,
                 bus: str | None = keys.BUS, replica_acks: int = 1) -> None:
        self.connector = connector
        self.redis = connector.client()
        self._audit_retention_ms = audit_retention_ms
        self._bus = bus
        # Replicas that must hold a change before it is acknowledged or delivered (at
        # most as many as the primary has connected; 0: never wait).
        self.replica_acks = replica_acks
        self._replicas = 0
        self._role_at = -ROLE_EVERY_S
        self.unconfirmed = 0  # commits a replica did not confirm in time (a metric for tests and ops)
        # Tags what this store publishes, so that its own worker can skip the echo.
        self.origin = secrets.token_hex(6)
        # Rooms where a commit's fate is unknown (the reply was lost): the events may be
        # committed, and published to others but not delivered here. The cluster takes
        # them (``take_uncertain``) and reads those rooms' logs once Redis answers again.
        self._uncertain: set[str] = set()
        # Batches committed but not confirmed by a replica in time, not yet published.
        self._unpublished: list[tuple[str, list[tuple[int, str]]]] = []
        self._create = self.redis.register_script(_CREATE)
        self._commit = self.redis.register_script(_COMMIT)
        self._recent = self.redis.register_script(_RECENT_CHAT)
        self._due = self.redis.register_script(_DUE)
        self._claim = self.redis.register_script(_CLAIM)
        self._audit_read = self.redis.register_script(_AUDIT_READ)
        self._attend = self.redis.register_script(_ATTEND)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisStore:
        return cls(Connector(url), **kwargs)

    async def _run(self, what: str, aw: Awaitable[Any]) -> Any:
        async with unreachable_is_unavailable(what):
            return await aw

    # -- replicas ------------------------------------------------------------------------

    async def acks_wanted(self) -> int:
        """How many replicas must confirm a write now: ``replica_acks``, or fewer when the
        primary has fewer connected (none: nothing to fail over to, nothing to wait for)."""
        if self.replica_acks <= 0:
            return 0
        now = time.monotonic()
        if now - self._role_at >= ROLE_EVERY_S:
            self._role_at = now
            try:
                role = await self.redis.execute_command("ROLE")
                self._replicas = len(role[2]) if role and str(role[0]) == "master" else 0
            except rex.ResponseError:
                # An ACL user without ROLE (an @admin command): WAIT with nothing written
                # on its connection counts the replicas that are caught up, at once.
                self._replicas = int(await self.redis.execute_command("WAIT", 0, 1))
        return min(self.replica_acks, self._replicas)

    async def _durable(self, build: Callable[[Any], None], acks: int, barrier: bool,
                       answered: list[Any] | None = None) -> list[Any]:
        """Run ``build``'s commands in one pipeline on one connection, then (``acks`` > 0)
        ``WAIT`` for that many replicas, all in one round trip. ``WAIT`` covers what this
        connection wrote; with ``barrier`` a small write goes first, so that it covers
        everything the primary had written when the reads ran (replication is in order).
        A replica that does not confirm in time: ``StoreUnavailable``."""
        for attempt in (0, 1):
            async with self.redis.pipeline(transaction=False) as p:
                build(p)
                if acks:
                    if barrier:
                        p.set(keys.SYNC, self.origin, px=keys.SYNC_TTL_MS)
                    p.wait(acks, REPLICA_ACK_TIMEOUT_MS)
                try:
                    out = cast(list[Any], await p.execute())
                except rex.NoScriptError:
                    if attempt:
                        raise
                    # A new primary (a failover) starts with no scripts: load them once.
                    for script in (self._commit, self._recent):
                        await self.redis.script_load(script.script)
                    continue
            break
        if not acks:
            return out
        got = int(out[-1])
        out = out[:-2] if barrier else out[:-1]
        if answered is not None:
            answered[:] = out
        if got < acks:
            self._role_at = -ROLE_EVERY_S  # look again: the replica may be gone for good
            raise rex.TimeoutError(f"{got} of {acks} replicas confirmed")
        return out

    async def create_room(self, state: RoomState, deadline: int | None = None) -> bool:
        token = secrets.token_hex(8)
        created = await self._run("create_room", self._create(
            keys=[keys.room(state.id), keys.log(state.id), keys.ROOMS, keys.TIMERS, keys.held(state.id)],
            args=[_json(state.to_dict()), state.version, state.seq, "" if deadline is None else deadline,
                  keys.ROOM_IDLE_TTL_MS, state.id, token]))
        return bool(created)

    async def load(self, room_id: str) -> RoomState | None:
        raw = await self._run("load", self.redis.hget(keys.room(room_id), "state"))
        return None if raw is None else RoomState.from_dict(json.loads(raw))

    async def load_with_client_id(self, room_id: str, client_key: str) -> tuple[RoomState | None, int | None]:
        async def read() -> tuple[Any, Any]:
            # One round trip; no MULTI needed: the client_id is read after the state, so
            # it is as new as the state or newer, and a newer one (written by a commit in
            # between) can only be this very message's first try: a duplicate, rightly.
            async with self.redis.pipeline(transaction=False) as p:
                p.hget(keys.room(room_id), "state")
                p.hget(keys.client_ids(room_id), client_key)
                raw, seen = await p.execute()
            return raw, seen
        raw, seen = await self._run("load", read())
        state = None if raw is None else RoomState.from_dict(json.loads(raw))
        return state, None if seen is None else int(seen)

    async def seq(self, room_id: str) -> int | None:
        """The room's last seq, without loading its state; None if there is no such room."""
        raw = await self._run("seq", self.redis.hget(keys.room(room_id), "seq"))
        return None if raw is None else int(raw)

    def _commit_args(self, expected_version: int, outcome: Outcome, deadline: int | None) -> list[Any]:
        state = outcome.state
        args: list[Any] = [
            expected_version, state.version, secrets.token_hex(8), _json(state.to_dict()), state.seq,
            "" if deadline is None else deadline, keys.ROOM_IDLE_TTL_MS, keys.LOG_MAXLEN,
            self._audit_retention_ms, AUDIT_MAX, state.id, self._bus or "",
            bus.events_prefix(self.origin, state.id), len(outcome.events),
        ]
        for e in outcome.events:
            args += [e.seq, e.type, _json(e.to_wire())]
        args.append(len(outcome.audit))
        if outcome.audit:
            args += [AUDIT_KEPT["action"], AUDIT_KEPT["signal"], keys.audit("", "action"), keys.audit("", "signal")]
            for a in outcome.audit:
                args += [a.at, audit_class(a.action), _json(a.to_wire())]
        calls = outbox_keys(outcome)
        args.append(len(calls))
        if calls:
            args += [*calls, keys.OUTBOX_TTL_MS]
        args.append(len(outcome.client_ids))
        if outcome.client_ids:
            for key, seq in outcome.client_ids:
                args += [key, seq]
            args.append(CLIENT_IDS_KEPT)
        args.append(len(outcome.held_texts))
        for held_id, text in outcome.held_texts:
            args += [held_id, text]
        args += [len(outcome.held_dropped), *outcome.held_dropped]
        return args

    @staticmethod
    def _commit_keys(room_id: str) -> list[str]:
        return [keys.room(room_id), keys.log(room_id), keys.ROOMS, keys.TIMERS, keys.audit(room_id, "action"),
                keys.OUTBOX, keys.client_ids(room_id), keys.client_order(room_id), keys.audit(room_id, "signal"),
                keys.AUDIT_ROOMS, keys.AUDIT_SIZES, keys.AUDIT_TOTAL, keys.AUDIT_IDS, keys.held(room_id)]

    async def commit(self, expected_version: int, outcome: Outcome, deadline: int | None) -> bool:
        room_id = outcome.state.id

        async def run() -> bool:
            commit_keys = self._commit_keys(room_id)
            args = self._commit_args(expected_version, outcome, deadline)
            acks = await self.acks_wanted()
            if not acks:
                return bool(await self._commit(keys=commit_keys, args=args))
            # Nobody hears of the batch before a replica holds it: the script does not
            # publish it; this worker does, once WAIT says so (a batch published and then
            # lost in a failover would leave its seq with two different events).
            args[11] = ""
            committed: list[bool] = []

            def build(p: Any) -> None:
                p.evalsha(self._commit.sha, len(commit_keys), *commit_keys, *args)

            try:
                done = bool((await self._durable(build, acks, False, committed))[0])
            except rex.TimeoutError:
                if committed and committed[0] and outcome.events:
                    # Committed, not confirmed: published once a replica has it (``republish``).
                    self._unpublished.append((room_id, [(e.seq, _json(e.to_wire())) for e in outcome.events]))
                    del self._unpublished[:-UNPUBLISHED_KEPT]
                raise
            if done and outcome.events and self._bus:
                await self.redis.publish(self._bus, self._events_message(room_id, outcome.events))
            return done

        try:
            return cast(bool, await self._run("commit", run()))
        except StoreUnavailable:
            self.unconfirmed += 1
            self._uncertain.add(room_id)
            raise

    def _events_message(self, room_id: str, events: Any) -> str:
        return bus.events_prefix(self.origin, room_id) + "[" + ",".join(_json(e.to_wire()) for e in events) + "]"

    async def republish(self) -> int:
        """Publish the batches that were committed but that no replica confirmed in time
        (their senders were told ``unavailable``; a retry finds them by client_id) once a
        replica holds them and they are still in the log as they were (a failover may
        have lost them: then their seqs belong to other events, and they are dropped).
        Other workers would otherwise hear of them only with the room's next event.
        Returns how many were published."""
        published = 0
        while self._unpublished:
            room_id, events = self._unpublished[0]

            def build(p: Any, room_id: str = room_id, events: list[tuple[int, str]] = events) -> None:
                p.xrange(keys.log(room_id), f"{events[0][0]}-0", f"{events[-1][0]}-0")

            async def check() -> list[Any]:
                return await self._durable(build, await self.acks_wanted(), True)

            entries = (await self._run("republish", check()))[0]
            if [fields["e"] for _, fields in entries] == [j for _, j in events] and self._bus:
                message = bus.events_prefix(self.origin, room_id) + "[" + ",".join(j for _, j in events) + "]"
                await self._run("republish", self.redis.publish(self._bus, message))
                published += 1
            self._unpublished.pop(0)
        return published

    def take_uncertain(self) -> set[str]:
        """The rooms whose last commit's fate is unknown, since the last call."""
        rooms, self._uncertain = self._uncertain, set()
        return rooms

    async def events_after(self, room_id: str, seq: int) -> list[Event] | None:
        async def read() -> list[Any]:
            def build(p: Any) -> None:
                p.hget(keys.room(room_id), "seq")
                p.xrange(keys.log(room_id), f"({seq}-0" if seq >= 0 else "-", "+")
            # What is read here reaches clients (a catch-up, a retried message's answer):
            # only once a replica holds it.
            return await self._durable(build, await self.acks_wanted(), True)

        top, entries = await self._run("events_after", read())
        if top is None:
            return None
        if seq >= int(top):
            return []
        if not entries or int(entries[0][0].split("-", 1)[0]) != seq + 1:
            return None  # the log no longer reaches back that far
        return [Event.from_wire(json.loads(fields["e"])) for _, fields in entries]

    async def recent_chat(self, room_id: str, limit: int) -> list[Event]:
        if limit <= 0:
            return []
        async def read() -> list[Any]:
            def build(p: Any) -> None:
                p.evalsha(self._recent.sha, 1, keys.log(room_id), limit, RECENT_SCAN_MAX)
            return cast(list[Any], (await self._durable(build, await self.acks_wanted(), True))[0])

        raw = await self._run("recent_chat", read())
        return [Event.from_wire(json.loads(j)) for j in reversed(raw)]

    async def delete_room(self, room_id: str) -> None:
        async def delete() -> None:
            async with self.redis.pipeline(transaction=True) as p:
                p.delete(keys.room(room_id), keys.log(room_id), keys.client_ids(room_id), keys.client_order(room_id),
                         keys.held(room_id))
                p.srem(keys.ROOMS, room_id)
                p.zrem(keys.TIMERS, room_id)
                await p.execute()

        await self._run("delete_room", delete())

    async def held_texts(self, room_id: str, ids: list[str]) -> dict[str, str]:
        if not ids:
            return {}
        texts = await self._run("held_texts", self.redis.hmget(keys.held(room_id), ids))
        return {i: t for i, t in zip(ids, texts, strict=True) if t is not None}

    async def room_ids(self) -> list[str]:
        async def read() -> list[str]:
            ids = sorted(cast(set[str], await self.redis.smembers(keys.ROOMS)))
            if not ids:
                return []
            async with self.redis.pipeline(transaction=False) as p:
                for rid in ids:
                    p.exists(keys.room(rid))
                alive = await p.execute()
            gone = [rid for rid, ok in zip(ids, alive, strict=True) if not ok]
            if gone:  # expired after a week idle
                await self.redis.srem(keys.ROOMS, *gone)
            return [rid for rid, ok in zip(ids, alive, strict=True) if ok]

        return cast(list[str], await self._run("room_ids", read()))

    async def due_rooms(self, now: int, limit: int = 100) -> list[str]:
        due = await self._run("due_rooms", self._due(keys=[keys.TIMERS], args=[now, limit, keys.room("")]))
        return list(due)

    async def next_due(self) -> int | None:
        first = await self._run("next_due", self.redis.zrange(keys.TIMERS, 0, 0, withscores=True))
        return int(first[0][1]) if first else None

    async def claim_outbox(self, lease_ms: int, limit: int = 20) -> list[OutboxItem]:
        raw = await self._run("outbox", self._claim(keys=[keys.OUTBOX, keys.OUTBOX_TRIES],
                                                    args=[lease_ms, limit, keys.OUTBOX_TTL_MS]))
        out = []
        for i in range(0, len(raw), 2):
            key = raw[i].decode() if isinstance(raw[i], bytes) else str(raw[i])
            out.append(OutboxItem.from_key(key, int(raw[i + 1])))
        return out

    async def ack_outbox(self, key: str) -> None:
        async def ack() -> None:
            async with self.redis.pipeline(transaction=True) as p:
                p.zrem(keys.OUTBOX, key)
                p.hdel(keys.OUTBOX_TRIES, key)
                await p.execute()
        await self._run("outbox", ack())

    async def _read_rooms(self, reads: list[tuple[str, AuditCursor | None, int]],
                          f: AuditFilter) -> list[tuple[list[Held], AuditCursor | None]]:
        """Per (room, cursor, n): the room's entries under the cursor that are known to be
        complete (newest first) and that ``f`` wants, and the cursor to read on from (None:
        nothing older)."""
        classes = f.classes()
        args: list[Any] = ["-inf" if f.since is None else f.since]
        for _, before, n in reads:
            for _cls in classes:
                args += ["+inf" if before is None else before.at, "" if before is None else f"{before.id:016x}", n]
        raw = await self._audit_read(keys=[keys.audit(r, cls) for r, _, _ in reads for cls in classes], args=args)
        out = []
        for i, (_, _, n) in enumerate(reads):
            rings: list[list[Held]] = []
            for members in raw[i * len(classes):(i + 1) * len(classes)]:
                ring = []
                for member in members:
                    hex_id, _, body = cast(str, member).partition("|")
                    e = AuditEntry(**json.loads(body))
                    ring.append((e.at, int(hex_id, 16), e))
                rings.append(ring)
            # A ring read to its ``n`` may hold older entries: below its oldest one read,
            # this room is not known yet.
            frontier = max(((r[-1][0], r[-1][1]) for r in rings if len(r) >= n), default=None)
            held = [h for r in rings for h in r if (frontier is None or (h[0], h[1]) >= frontier) and f.wants(h[2])]
            out.append((held, None if frontier is None else AuditCursor(*frontier)))
        return out

    async def audit_page(self, room: str | None, since: int | None, before: AuditCursor | None = None,
                         limit: int = AUDIT_PAGE_MAX, *, until: int | None = None,
                         actions: frozenset[str] | None = None) -> AuditPage:
        # A lazy merge of the rooms' rings, newest first. A room stands in the heap at the
        # newest place its unread entries may have, ahead of any entry there (id
        # "infinity"); it is read when it comes to the top, in growing batches. Rooms
        # quiet since the page's moment are never read, however many there are.
        f = AuditFilter(since, before, until, actions)
        upper = f.upper

        async def read() -> AuditPage:
            if not f.classes():
                return AuditPage([], None)
            if room is not None:
                starts: list[tuple[str, float]] = [(room, float(2 ** 62))]
            else:
                starts = cast(list[tuple[str, float]], await self.redis.zrevrangebyscore(
                    keys.AUDIT_ROOMS, "+inf", "-inf" if since is None else since, withscores=True))
            first = AUDIT_FIRST_READ if room is None else limit + 1  # one room: one read
            # (-at, -id, room, entry | None, cursor, n): an entry, or a room still to read
            heap: list[tuple[int, int, str, AuditEntry | None, AuditCursor | None, int]] = [
                (-int(at if upper is None else min(at, upper.at)), -(2 ** 63), r, None, upper, first)
                for r, at in starts]
            heapq.heapify(heap)
            out: list[Held] = []
            while heap and len(out) <= limit:
                if heap[0][3] is not None:
                    neg_at, neg_id, _, e, _, _ = heapq.heappop(heap)
                    out.append((-neg_at, -neg_id, cast(AuditEntry, e)))
                    continue
                reads: list[tuple[str, AuditCursor | None, int]] = []
                while heap and heap[0][3] is None and len(reads) < AUDIT_ROOMS_PER_READ:
                    _, _, r, _, cursor, n = heapq.heappop(heap)
                    # Filtered by action, a read may keep nothing of what it reads: it
                    # grows to a page rather than to what the page still lacks.
                    reads.append((r, cursor, min(n, limit + 1 - len(out) if actions is None else AUDIT_PAGE_MAX + 1)))
                for (r, _, n), (held, more) in zip(reads, await self._read_rooms(reads, f), strict=True):
                    for at, i, e in held:
                        heapq.heappush(heap, (-at, -i, r, e, None, 0))
                    if more is not None:  # the rest of this room: everything below ``more``
                        heapq.heappush(heap, (-more.at, -(more.id - 1), r, None, more, 2 * n))
            return page_of(out, limit)

        return cast(AuditPage, await self._run("audit", read()))

    async def audit(self, room: str | None, since: int | None, limit: int = AUDIT_PAGE_MAX) -> list[AuditEntry]:
        return (await self.audit_page(room, since, None, limit)).entries

    async def rota(self) -> list[dict[str, Any]]:
        raw = await self._run("rota", self.redis.getex(keys.ROTA, px=keys.ROTA_TTL_MS))
        return [] if raw is None else cast(list[dict[str, Any]], json.loads(raw))

    async def save_rota(self, shifts: list[dict[str, Any]]) -> None:
        await self._run("rota", self.redis.set(keys.ROTA, _json(shifts), px=keys.ROTA_TTL_MS))

    # -- attendance ----------------------------------------------------------------------

    async def attendance_record(self, op: str, room: str, participant: str, date: str, now: int,
                                ttl_ms: int) -> None:
        await self._run("attendance", self._attend(
            keys=[], args=[op, keys.ATTENDANCE_PREFIX, room, participant, date, now, ttl_ms]))

    async def _att_rows(self, index: str, now: int, row: Any) -> list[AttendanceRow]:
        """The live members of ``index`` as (room, date, participant) by ``row``, with
        their records and open intervals."""
        async def read() -> list[AttendanceRow]:
            await self.redis.zremrangebyscore(index, "-inf", now)
            members = [m.decode() if isinstance(m, bytes) else str(m)
                       for m in await self.redis.zrangebyscore(index, f"({now}", "+inf")]
            if not members:
                return []
            ids = [row(m) for m in members]
            async with self.redis.pipeline(transaction=False) as pipe:
                for r, d, who in ids:
                    pipe.hmget(keys.attendance_record(r, d, who), "ms", "shared")
                    pipe.hmget(keys.attendance_open(r, who), "date", "since")
                got = await pipe.execute()
            out = []
            for i, (r, d, who) in enumerate(ids):
                ms, shared = got[2 * i]
                odate, since = got[2 * i + 1]
                if ms is None:
                    continue  # expired
                extra = now - int(since) if odate is not None and _text(odate) == d else 0
                out.append(AttendanceRow(r, d, who, int(ms) + max(0, extra), int(shared or 0) == 1))
            return sorted(out)

        return cast(list[AttendanceRow], await self._run("attendance", read()))

    async def attendance_of(self, participant: str, now: int) -> list[AttendanceRow]:
        def row(m: str) -> tuple[str, str, str]:
            r, d = m.split("|", 1)
            return r, d, participant
        return await self._att_rows(keys.attendance_mine(participant), now, row)

    async def attendance_room(self, room: str, now: int) -> list[AttendanceRow]:
        def row(m: str) -> tuple[str, str, str]:
            d, who = m.split("|", 1)
            return room, d, who
        return await self._att_rows(keys.attendance_room(room), now, row)

    async def attendance_erase(self, participant: str) -> int:
        async def erase() -> int:
            mine = keys.attendance_mine(participant)
            members = [_text(m) for m in await self.redis.zrange(mine, 0, -1)]
            async with self.redis.pipeline(transaction=True) as pipe:
                for m in members:
                    r, d = m.split("|", 1)
                    pipe.delete(keys.attendance_record(r, d, participant), keys.attendance_open(r, participant))
                    pipe.zrem(keys.attendance_room(r), f"{d}|{participant}")
                pipe.delete(mine)
                await pipe.execute()
            return len(members)
        return cast(int, await self._run("attendance", erase()))

    async def attendance_follow(self, participant: str, on: bool | None, now: int, ttl_ms: int) -> bool:
        key = keys.attendance_follow(participant)
        if on is True:
            await self._run("attendance", self.redis.set(key, "1", px=ttl_ms))
        elif on is False:
            await self._run("attendance", self.redis.delete(key))
        return bool(await self._run("attendance", self.redis.exists(key)))

    async def add_outbox(self, calls: list[str]) -> None:
        if not calls:
            return
        async def add() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zadd(keys.OUTBOX, dict.fromkeys(calls, 0), nx=True)
                pipe.pexpire(keys.OUTBOX, keys.OUTBOX_TTL_MS)
                await pipe.execute()
        await self._run("outbox", add())

    async def ping(self) -> None:
        await self._run("ping", self.redis.ping())

    async def close(self) -> None:
        try:
            await self.redis.aclose()
        finally:
            await self.connector.close()


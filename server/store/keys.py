"""Every Redis key and channel Circles uses, named once, with its type, shape and lifetime.

Privacy rule: every key either carries a TTL or is deleted when its room ends, and the
Redis we run in tests keeps nothing on disk (``--save "" --appendonly no``). Production
deployments should do the same: room state holds chat text while the room lives.

All keys share one prefix so that an operator can see (and SCAN) exactly what is ours.
Multi-key scripts touch keys of several rooms' worth of names, so Redis Cluster is not
supported; a single primary (optionally behind Sentinel) is.
"""

from __future__ import annotations

from typing import Final

PREFIX: Final = "circles:"

# How long an idle room's keys live. Every commit refreshes it, so a room that nobody
# touches for a week (and that nobody ended) is forgotten by Redis itself.
ROOM_IDLE_TTL_MS: Final = 7 * 86_400_000

# How many log entries a room keeps (XADD ... MAXLEN ~). The contract promises at least
# the last 1000 for a reconnect; ``~`` trims whole stream nodes only, so the stream keeps
# at least this many, a little more between trims.
LOG_MAXLEN: Final = 2000

# A worker whose heartbeat is older than this is dead and its connections are swept.
# Heartbeats come every second; three missed ones is a crash, not a slow event loop.
WORKER_DEAD_MS: Final = 3000
# Presence keys outlive a dead worker long enough for a survivor to sweep them, and
# vanish by themselves if every worker is gone.
PRESENCE_TTL_MS: Final = 60_000
# One survivor sweeps a dead worker; the lock outlives a sweep and frees itself if the
# sweeper dies midway (the next one repeats it: disconnects are idempotent).
SWEEP_LOCK_MS: Final = 30_000


def room(room_id: str) -> str:
    """hash {state: RoomState JSON, version: int, seq: int, commit: token of the last commit}.

    TTL: ROOM_IDLE_TTL_MS, refreshed on every commit; deleted when the room ends.
    ``version`` and ``seq`` sit beside the JSON so the commit script can check and the
    log reader can compare without decoding the state.
    """
    return f"{PREFIX}room:{room_id}"


def log(room_id: str) -> str:
    """stream, one entry per event, id ``<seq>-0``, fields {t: event type, e: event JSON}.

    Trimmed with MAXLEN ~ LOG_MAXLEN on every XADD. TTL: ROOM_IDLE_TTL_MS, refreshed on
    every commit; deleted when the room ends.
    """
    return f"{PREFIX}log:{room_id}"


def client_ids(room_id: str) -> str:
    """hash ``<participant>\\0<client_id>`` -> the seq its first try got (0 held, -1
    blocked): idempotent chat retries. At most CLIENT_IDS_KEPT fields, the oldest go
    first (``client_order``). TTL: ROOM_IDLE_TTL_MS, refreshed when written; deleted
    when the room ends."""
    return f"{PREFIX}cids:{room_id}"


def client_order(room_id: str) -> str:
    """list of the fields of ``client_ids`` in the order they were first written.
    TTL and deletion as ``client_ids``."""
    return f"{PREFIX}cidorder:{room_id}"


def held(room_id: str) -> str:
    """hash held message id -> its text, while it waits for review (at most HELD_MAX).
    TTL: ROOM_IDLE_TTL_MS, refreshed on every commit; deleted when the room ends."""
    return f"{PREFIX}held:{room_id}"


# set of room ids. TTL: ROOM_IDLE_TTL_MS, refreshed on every commit; a room is removed
# from it when it ends, and readers drop ids whose room key has expired.
ROOMS: Final = f"{PREFIX}rooms"

# zset room id -> the room's next deadline (ms since the epoch). TTL: ROOM_IDLE_TTL_MS,
# refreshed on every commit; a room leaves it when it ends or has no deadline, and
# ``due_rooms`` drops ids whose room key has expired.
TIMERS: Final = f"{PREFIX}timers"

def audit(room_id: str, cls: str) -> str:
    """zset of one room's audit entries of one class (``action`` or ``signal``, see
    ``base.audit_class``): score = ``at`` (ms), member = ``<id, 16 hex digits>|<entry
    JSON>`` (the id from AUDIT_IDS orders entries of one moment and makes the paging
    cursor). At most AUDIT_ACTIONS_KEPT / AUDIT_SIGNALS_KEPT members, the oldest go first;
    entries older than the retention period (counted from the room's newest) go too.
    TTL: the audit retention period, refreshed on every append: NOT deleted when the
    room ends (the audit outlives its room by design, for that period). Deleted when the
    total cap (AUDIT_MAX) evicts the room's last entries or the room's newest entry is
    past retention. Never message text."""
    return f"{PREFIX}audit:{cls}:{room_id}"


# zset room id -> ``at`` of its newest audit entry: which rooms hold audit, newest first,
# for reads over every room and for the retention sweep. TTL: the audit retention period,
# refreshed on every append; a room leaves it with its audit keys.
AUDIT_ROOMS: Final = f"{PREFIX}audit-rooms"
# zset room id -> how many audit entries it holds (both classes): the total cap takes
# from the largest. Same TTL and lifetime as AUDIT_ROOMS.
AUDIT_SIZES: Final = f"{PREFIX}audit-sizes"
# string: the sum of AUDIT_SIZES. Same TTL.
AUDIT_TOTAL: Final = f"{PREFIX}audit-total"
# string: the last audit entry id given (INCR). Same TTL: when it expires every audit
# key has expired too, so ids may start again.
AUDIT_IDS: Final = f"{PREFIX}audit-ids"

# zset of webhook calls committed and not yet delivered: member = JSON {id, data} (ids
# and times only, never names or text), score = when it may next be claimed (ms, Redis
# time; 0 = now). Written by the commit script; a claim moves the score a lease ahead;
# delivery removes it. TTL: OUTBOX_TTL_MS, refreshed on every write.
OUTBOX: Final = f"{PREFIX}outbox"
# hash member -> how many times it was claimed; a call that failed this often is given
# up. Same TTL, refreshed on every claim; a member's field goes with it.
OUTBOX_TRIES: Final = f"{PREFIX}outbox:tries"
OUTBOX_TTL_MS: Final = 86_400_000

# zset worker id -> last heartbeat (ms, Redis server time, so clocks of different
# machines do not matter). TTL: PRESENCE_TTL_MS, refreshed by every heartbeat; a dead
# worker is removed by the survivor that sweeps it.
WORKERS: Final = f"{PREFIX}workers"


def conns(worker_id: str) -> str:
    """hash ``<room>\\n<participant>\\n<conn>`` -> role: the connections a worker holds.

    Rewritten by its worker as people join and leave. TTL: PRESENCE_TTL_MS, refreshed by
    every heartbeat; deleted by the survivor that sweeps the worker when it dies.
    """
    return f"{PREFIX}conns:{worker_id}"


def duty(worker_id: str) -> str:
    """hash responder id -> JSON {name, since}: the responders on duty on a worker (their
    duty ends with their last connection there), read by every worker for the admin API's
    ``GET /api/oncall/duty``. Rewritten by its worker as duty changes. TTL:
    PRESENCE_TTL_MS, refreshed by every heartbeat; deleted by the survivor that sweeps
    the worker when it dies, and by the worker itself on a clean shutdown. Readers skip
    the keys of workers whose heartbeat is older than WORKER_DEAD_MS."""
    return f"{PREFIX}duty:{worker_id}"


def sweep_lock(worker_id: str) -> str:
    """string (id of the sweeping worker), SET NX; TTL: SWEEP_LOCK_MS."""
    return f"{PREFIX}sweep:{worker_id}"


# Pub/sub channel (not a key: nothing is stored) that carries every committed batch and
# every private notice to every worker. Messages:
#   ``E|<origin>|<room>|[event, ...]``  published by the commit script itself, so a
#                                       committed batch is always published, exactly once;
#                                       when commits wait for a replica (``SYNC``), by
#                                       the committing worker once a replica holds it;
#   ``N|<origin>|[notice, ...]``        published after the commit by the publisher;
#   ``M|<origin>|<worker>|{...}``       audio signalling forwarded to (or answered by)
#                                       the worker holding a room's media lease; only
#                                       <worker> reads it (``server/media/router.py``).
# One channel rather than one per room: with SO_REUSEPORT spreading people at random,
# nearly every worker has someone in every sizeable room, so per-room channels would
# save little and cost a SUBSCRIBE race on every first join; and notices (on-duty
# responders, staff, a person waiting in a lobby) may be anywhere.
BUS: Final = f"{PREFIX}bus"

# string (the origin tag of the last worker that wrote it), written before ``WAIT`` on
# the same connection when a read must not answer with anything a replica does not hold
# yet (``RedisStore`` with replica acks): a write has a replication offset, a read has
# none. TTL: SYNC_TTL_MS, set by every write.
SYNC: Final = f"{PREFIX}sync"
SYNC_TTL_MS: Final = 60_000


# A room's media lives on one worker at a time (``server/media/router.py``).
# Renewed every second by the worker that holds it while it serves anyone of the room;
# a dead worker's lease expires after this long, and the next offer takes it over.
MEDIA_LEASE_MS: Final = 3000


def media_lease(room_id: str) -> str:
    """string (id of the worker serving the room's audio), SET NX. TTL: MEDIA_LEASE_MS,
    renewed by its holder; deleted when the holder lets go (its last peer there closed,
    or it shuts down)."""
    return f"{PREFIX}media:{room_id}"


# string, JSON list of the on-call rota's shifts (``server/rota.py``): responder ids and
# the names staff know them by, never anything of a member; not meeting data. TTL:
# ROTA_TTL_MS, refreshed on every read (GETEX) and write, so a rota that the console shows
# stays, and one nobody has looked at for half a year is forgotten like everything else.
ROTA: Final = f"{PREFIX}oncall-rota"
ROTA_TTL_MS: Final = 180 * 86_400_000


# -- attendance (``server/attendance.py``; only where ``[attendance]`` turns it on) -------
# Participant ids (the token's ``sub``), room ids, dates, milliseconds and a shared flag:
# never a name, never text. Each key's TTL is the retention period (``[attendance]
# retention_days``), set again by every write; the index zsets' scores are when their
# member expires (ms, the service's clock), so reads leave out what expired before Redis
# deletes it.
ATTENDANCE_PREFIX: Final = f"{PREFIX}att:"


def attendance_record(room_id: str, date: str, participant: str) -> str:
    """hash {ms: connected time counted so far, shared: 0|1}: one participant at one meeting."""
    return f"{ATTENDANCE_PREFIX}rec:{room_id}|{date}|{participant}"


def attendance_open(room_id: str, participant: str) -> str:
    """hash {date, since}: a participant's connected interval not yet closed; deleted when it closes."""
    return f"{ATTENDANCE_PREFIX}open:{room_id}|{participant}"


def attendance_mine(participant: str) -> str:
    """zset ``<room>|<date>`` -> expiry: the meetings of one participant."""
    return f"{ATTENDANCE_PREFIX}mine:{participant}"


def attendance_room(room_id: str) -> str:
    """zset ``<date>|<participant>`` -> expiry: the attendance of one room."""
    return f"{ATTENDANCE_PREFIX}room:{room_id}"


def attendance_follow(participant: str) -> str:
    """string "1": the participant asked for follow-up (``attendance.missed``); deleted when
    they stop. Its TTL is set again by each of their attendance writes: it lasts while they come."""
    return f"{ATTENDANCE_PREFIX}follow:{participant}"

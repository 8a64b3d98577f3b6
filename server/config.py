"""Settings from the command line, the environment and an optional TOML file.

Precedence: command line, then environment, then the file, then defaults. Everything is
validated once at start; a bad value stops the process with a message that says what to
do, never a traceback.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, get_type_hints

from pydantic import Field, ValidationError, create_model, field_validator, model_validator

from moderation.options import Loc, Options, describe, path
from moderation.pipeline import build_pipeline

from .attendance import AttendanceConfig
from .core.errors import CommandError
from .core.model import ROOM_ID_MESSAGE, ROOM_ID_PATTERN, Format, RoomKind, Settings, valid_room_id
from .formats import FormatIn, merged, shipped
from .gateway.limits import Limits, trusted_networks
from .schedules import known_zone
from .service import CrisisSupport, Helpline

DEFAULT_HELPLINES: Final = (
    Helpline(name="Tele-MANAS", phone="14416", hours="24x7"),
    Helpline(name="KIRAN mental health helpline", phone="1800-599-0019", hours="24x7"),
)
MIN_SECRET_LEN: Final = 32
# The admin and metrics keys are bearer secrets too: long enough not to be guessed.
MIN_KEY_LEN: Final = 32


class ConfigError(Exception):
    """A setting is missing or wrong; the message tells the operator what to do."""


@dataclass(frozen=True)
class RoomSpec:
    id: str
    kind: str = "circle"
    title: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    moderation: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class OncallConfig:
    webhook_url: str | None = None
    webhook_secret: str | None = None
    helplines: tuple[Helpline, ...] = DEFAULT_HELPLINES


@dataclass(frozen=True)
class SchedulesConfig:
    """``[schedules]``: where ``circle.starting`` reminders go (signed like the on-call
    webhook; none are sent without a URL) and the approximate place the meeting-list feed
    may name (a city, never a street)."""

    webhook_url: str | None = None
    webhook_secret: str | None = None
    approximate_address: str | None = None


@dataclass(frozen=True)
class MediaConfig:
    host_candidates: tuple[str, ...] | None = None
    ice_servers: tuple[Mapping[str, Any], ...] = ()
    opus_bitrate: int = 28000
    # TURN for browsers (coturn's use-auth-secret): each join gets a credential made from
    # ``turn_secret`` that runs out after ``turn_ttl_s`` (server/media/turn.py).
    turn_urls: tuple[str, ...] = ()
    turn_secret: str | None = None
    turn_ttl_s: int = 6 * 3600


@dataclass(frozen=True)
class Config:
    secret: str
    host: str = "127.0.0.1"
    port: int = 8080
    redis_url: str | None = None
    # Replicas that must hold a change before it is acknowledged (``WAIT``), when the
    # primary has that many; 0: never wait (docs/cluster.md, "Sentinel").
    redis_replica_acks: int = 1
    workers: int = 1
    admin_key: str | None = None
    allowed_origins: tuple[str, ...] | None = None  # None: same origin only
    demo: bool = False
    rooms: tuple[RoomSpec, ...] = ()
    oncall: OncallConfig = field(default_factory=OncallConfig)
    schedules: SchedulesConfig = field(default_factory=SchedulesConfig)
    attendance: AttendanceConfig = field(default_factory=AttendanceConfig)
    # The address people reach this server at (https://circles.example.org): the links in
    # calendar feeds, meeting lists and reminders. None: taken from each request.
    public_url: str | None = None
    moderation: Mapping[str, Any] | None = None
    media: MediaConfig = field(default_factory=MediaConfig)
    audit_retention_days: int = 30
    log_level: str = "INFO"
    secret_generated: bool = False
    limits: Limits = field(default_factory=Limits)
    # Proxies whose X-Forwarded-For is believed (networks, e.g. "10.0.0.0/8").
    trusted_proxies: tuple[str, ...] = ()
    # When set, GET /metrics needs `Authorization: Bearer <metrics_key>`.
    metrics_key: str | None = None
    # Meeting format templates: the shipped ones and the file's [[formats]] (one with a
    # shipped template's id takes its place).
    formats: tuple[Format, ...] = field(default_factory=shipped)

    def crisis_support(self) -> CrisisSupport:
        oncall = next((r.id for r in self.rooms if r.kind == "oncall"), None)
        return CrisisSupport(oncall_room=oncall, helplines=self.oncall.helplines)


def _read_toml(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None


# -- the file's tables, as pydantic models ---------------------------------------------------
# What an operator types (lists, tables) is checked here, strictly and with unknown keys
# refused (``Options``); the frozen dataclasses above are what the server runs on.


class _RoomTable(Options):
    id: str
    kind: RoomKind = "circle"
    title: str = ""
    settings: dict[str, Any] = Field(default_factory=dict)
    moderation: dict[str, Any] | None = None

    @field_validator("id")
    @classmethod
    def _room_id(cls, value: str) -> str:
        if not valid_room_id(value):
            raise ValueError(ROOM_ID_MESSAGE)
        return value

    @field_validator("settings")
    @classmethod
    def _settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            Settings().updated(value)  # the core's own rules, not a copy of them
        except CommandError as e:
            raise ValueError(e.message) from None
        return value


class _HelplineTable(Options):
    name: str
    phone: str | int  # phone = 14416, unquoted, is a number in TOML
    hours: str = ""


class _Webhook(Options):
    webhook_url: str | None = None
    webhook_secret: str | None = None

    @field_validator("webhook_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

    @model_validator(mode="after")
    def _signed(self) -> _Webhook:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("webhook_secret is required with webhook_url (it signs each call)")
        return self


class _OncallTable(_Webhook):
    helplines: Annotated[list[_HelplineTable], Field(min_length=1)] | None = None


class _SchedulesTable(_Webhook):
    approximate_address: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class _AttendanceTable(_Webhook):
    enabled: bool = False
    rooms: list[Annotated[str, Field(pattern=ROOM_ID_PATTERN)]] = Field(default_factory=list)
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 90
    missed_after: Annotated[int, Field(ge=1, le=52)] = 3
    tz: str = "Asia/Kolkata"

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not known_zone(value):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as 'Asia/Kolkata')")
        return value


class _IceServer(Options):
    urls: str | Annotated[list[str], Field(min_length=1)]
    username: str | None = None
    credential: str | None = None

    @field_validator("urls")
    @classmethod
    def _schemes(cls, value: str | list[str]) -> str | list[str]:
        if not all(u.startswith(("stun:", "turn:", "turns:")) for u in ([value] if isinstance(value, str) else value)):
            raise ValueError("urls must start with stun:, turn: or turns:")
        return value


class _MediaTable(Options):
    host_candidates: list[str] | None = None
    ice_servers: list[_IceServer] = Field(default_factory=list)
    opus_bitrate: Annotated[int, Field(ge=6000, le=128000)] = 28000
    turn_urls: list[str] = Field(default_factory=list)
    turn_ttl_s: Annotated[int, Field(ge=600, le=86400)] = 6 * 3600

    @field_validator("turn_urls")
    @classmethod
    def _turn_schemes(cls, value: list[str]) -> list[str]:
        return _turn_urls(value)


class _LimitsBase(Options):
    # Proxies whose X-Forwarded-For is believed (checked by ``trusted_networks``).
    trusted_proxies: list[str] = Field(default_factory=list)


# [limits]: every field of ``Limits`` with its type and default, taken from Limits itself
# (whose own checks hold the bounds), so a new limit is a config key with no edit here.
_LIMIT_FIELDS: Final[dict[str, Any]] = {
    f.name: (get_type_hints(Limits)[f.name], f.default) for f in dataclasses.fields(Limits)}
_LimitsTable = create_model("_LimitsTable", __base__=_LimitsBase, **_LIMIT_FIELDS)


class _AuditTable(Options):
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 30


class _ServerTable(Options):
    """``[server]``. A value here loses to the environment and the command line (both
    strings or argparse's types), so the value that wins is checked again once picked
    (``load_config``): here only its type."""

    host: str | None = None
    port: int | None = None
    redis_url: str | None = None
    redis_replica_acks: int | None = None
    secret: str | None = None
    admin_key: str | None = None
    metrics_key: str | None = None
    allowed_origins: str | list[str] | None = None
    workers: int | None = None
    log_level: str | None = None
    public_url: str | None = None


class _File(Options):
    server: _ServerTable = Field(default_factory=_ServerTable)
    rooms: list[_RoomTable] = Field(default_factory=list)
    formats: list[FormatIn] = Field(default_factory=list)
    oncall: _OncallTable = Field(default_factory=_OncallTable)
    schedules: _SchedulesTable = Field(default_factory=_SchedulesTable)
    attendance: _AttendanceTable = Field(default_factory=_AttendanceTable)
    moderation: dict[str, Any] | None = None
    media: _MediaTable = Field(default_factory=_MediaTable)
    audit: _AuditTable = Field(default_factory=_AuditTable)
    limits: _LimitsTable = Field(default_factory=_LimitsTable)  # type: ignore[valid-type]


def _place(loc: Loc) -> str:
    """Where a key is, as the operator wrote it: ``[media] ice_servers[0]``, ``rooms[1].id``."""
    if not loc:
        return "config file"
    head, rest = loc[0], loc[1:]
    if rest and isinstance(rest[0], int):  # an array of tables: [[rooms]]
        return f"{head}[{rest[0]}]" + (f".{path(rest[1:])}" if len(rest) > 1 else "")
    return f"[{head}] {path(rest)}" if rest else f"[{head}]"


def _read_file(doc: Mapping[str, Any]) -> _File:
    try:
        return _File.model_validate(doc)
    except ValidationError as e:
        raise ConfigError(describe(e, _place)) from None


def _rooms(tables: list[_RoomTable]) -> tuple[RoomSpec, ...]:
    seen: set[str] = set()
    for i, r in enumerate(tables):
        if r.id in seen:
            raise ConfigError(f"rooms[{i}]: room {r.id} is defined twice")
        seen.add(r.id)
    return tuple(RoomSpec(id=r.id, kind=r.kind, title=r.title, settings=r.settings, moderation=r.moderation)
                 for r in tables)


def _formats(tables: list[FormatIn]) -> tuple[Format, ...]:
    seen: set[str] = set()
    for i, f in enumerate(tables):
        if f.id in seen:
            raise ConfigError(f"formats[{i}]: format {f.id} is defined twice")
        seen.add(f.id)
    return merged(shipped(), (f.format() for f in tables))


def _oncall(table: _OncallTable) -> OncallConfig:
    helplines = DEFAULT_HELPLINES if table.helplines is None else tuple(
        Helpline(name=h.name, phone=str(h.phone), hours=h.hours) for h in table.helplines)
    return OncallConfig(webhook_url=table.webhook_url, webhook_secret=table.webhook_secret, helplines=helplines)


def _turn_urls(urls: list[str]) -> list[str]:
    if not all(u.startswith(("turn:", "turns:")) for u in urls):
        raise ValueError("turn_urls must start with turn: or turns:")
    return urls


def _media(table: _MediaTable, env: Mapping[str, str]) -> MediaConfig:
    """``[media]``; the TURN secret only from the environment (CIRCLES_TURN_SECRET), and
    CIRCLES_TURN_URLS (comma-separated) over the file's ``turn_urls``."""
    urls = table.turn_urls
    if env.get("CIRCLES_TURN_URLS"):
        try:
            urls = _turn_urls([u.strip() for u in env["CIRCLES_TURN_URLS"].split(",") if u.strip()])
        except ValueError as e:
            raise ConfigError(f"CIRCLES_TURN_URLS: {e}") from None
    secret = env.get("CIRCLES_TURN_SECRET") or None
    if urls and not secret:
        raise ConfigError("TURN urls are set but CIRCLES_TURN_SECRET is not: browsers would get no credential")
    if secret is not None and len(secret) < 32:
        raise ConfigError("CIRCLES_TURN_SECRET must be at least 32 characters")
    return MediaConfig(host_candidates=tuple(table.host_candidates) if table.host_candidates is not None else None,
                       ice_servers=tuple(s.model_dump(exclude_unset=True) for s in table.ice_servers),
                       opus_bitrate=table.opus_bitrate, turn_urls=tuple(urls), turn_secret=secret,
                       turn_ttl_s=table.turn_ttl_s)


def _limits(table: _LimitsBase) -> tuple[Limits, tuple[str, ...]]:
    numbers = table.model_dump(exclude={"trusted_proxies"}, exclude_unset=True)
    try:
        limits = Limits(**numbers)
    except ValueError as e:
        raise ConfigError(f"[limits] {e}") from None
    proxies: list[str] = table.trusted_proxies
    try:
        trusted_networks(proxies)
    except ValueError as e:
        raise ConfigError(f"[limits] trusted_proxies: {e}") from None
    return limits, tuple(proxies)


def _key(name: str, value: Any) -> str | None:
    if not value:
        return None
    if len(str(value)) < MIN_KEY_LEN:
        raise ConfigError(f"{name} must be at least {MIN_KEY_LEN} characters; for example "
                          "python -c 'import secrets; print(secrets.token_urlsafe(32))'")
    return str(value)


def _int(name: str, value: Any, lo: int, hi: int) -> int:
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number") from None
    if not lo <= v <= hi:
        raise ConfigError(f"{name} must be from {lo} to {hi}")
    return v


def load_config(cli: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Config:
    """Build the configuration; ``cli`` holds only the options given on the command line."""
    env = os.environ if env is None else env
    path = cli.get("config") or env.get("CIRCLES_CONFIG")
    file = _read_file(_read_toml(path) if path else {})
    srv = file.server.model_dump(exclude_none=True)

    def pick(cli_key: str, env_key: str, file_key: str, default: Any) -> Any:
        if cli.get(cli_key) is not None:
            return cli[cli_key]
        if env.get(env_key):
            return env[env_key]
        return srv.get(file_key, default)

    demo = bool(cli.get("demo"))
    secret = pick("secret", "CIRCLES_SECRET", "secret", None)
    generated = False
    if not secret:
        if not demo:
            raise ConfigError(
                "CIRCLES_SECRET is not set. It signs join tokens; set it to a long random string, "
                "for example: export CIRCLES_SECRET=$(python -c 'import secrets; print(secrets.token_urlsafe(32))') "
                "(or run `circles serve --demo` to try Circles with a generated one)")
        secret = secrets.token_urlsafe(32)
        generated = True
    if len(secret) < MIN_SECRET_LEN:
        raise ConfigError(f"CIRCLES_SECRET must be at least {MIN_SECRET_LEN} characters")
    origins_raw = pick("allowed_origins", "CIRCLES_ALLOWED_ORIGINS", "allowed_origins", None)
    origins: tuple[str, ...] | None = None
    if origins_raw:
        items = origins_raw.split(",") if isinstance(origins_raw, str) else list(origins_raw)
        origins = tuple(o.strip().rstrip("/") for o in items if o.strip())
        for o in origins:
            if o != "*" and not o.startswith(("http://", "https://")):
                raise ConfigError(f"CIRCLES_ALLOWED_ORIGINS: {o!r} is not an origin like https://example.org")
    public_url = pick("public_url", "CIRCLES_PUBLIC_URL", "public_url", None)
    if public_url:
        public_url = str(public_url).rstrip("/")
        if not public_url.startswith(("http://", "https://")) or "#" in public_url or "?" in public_url:
            raise ConfigError(f"CIRCLES_PUBLIC_URL: {public_url!r} is not an address like https://circles.example.org")
    redis_url = pick("redis_url", "CIRCLES_REDIS_URL", "redis_url", None)
    if redis_url and not str(redis_url).startswith(("redis://", "rediss://", "redis+sentinel://", "unix://")):
        raise ConfigError("the Redis URL must start with redis://, rediss:// or redis+sentinel://")
    moderation = file.moderation
    rooms = _rooms(file.rooms)
    try:
        build_pipeline(moderation)
        for spec in rooms:
            if spec.moderation is not None:
                build_pipeline(moderation, spec.moderation)
    except ValueError as e:
        raise ConfigError(f"[moderation]: {e}") from None
    limits, trusted_proxies = _limits(file.limits)
    return Config(
        secret=secret,
        host=str(pick("host", "CIRCLES_HOST", "host", "127.0.0.1")),
        port=_int("port", pick("port", "CIRCLES_PORT", "port", 8080), 0, 65535),
        redis_url=redis_url,
        redis_replica_acks=_int("redis_replica_acks", pick(
            "redis_replica_acks", "CIRCLES_REDIS_REPLICA_ACKS", "redis_replica_acks", 1), 0, 5),
        workers=_int("workers", pick("workers", "CIRCLES_WORKERS", "workers", 1), 1, 256),
        admin_key=_key("CIRCLES_ADMIN_KEY (admin_key)", pick("admin_key", "CIRCLES_ADMIN_KEY", "admin_key", None)),
        metrics_key=_key("CIRCLES_METRICS_KEY (metrics_key)",
                         pick("metrics_key", "CIRCLES_METRICS_KEY", "metrics_key", None)),
        allowed_origins=origins,
        demo=demo,
        rooms=rooms,
        oncall=_oncall(file.oncall),
        schedules=SchedulesConfig(webhook_url=file.schedules.webhook_url,
                                  webhook_secret=file.schedules.webhook_secret,
                                  approximate_address=file.schedules.approximate_address),
        attendance=AttendanceConfig(enabled=file.attendance.enabled, rooms=tuple(file.attendance.rooms),
                                    retention_days=file.attendance.retention_days,
                                    missed_after=file.attendance.missed_after, tz=file.attendance.tz,
                                    webhook_url=file.attendance.webhook_url,
                                    webhook_secret=file.attendance.webhook_secret),
        public_url=public_url or None,
        moderation=moderation,
        media=_media(file.media, env),
        audit_retention_days=file.audit.retention_days,
        log_level=str(pick("log_level", "CIRCLES_LOG_LEVEL", "log_level", "INFO")).upper(),
        secret_generated=generated,
        limits=limits,
        trusted_proxies=trusted_proxies,
        formats=_formats(file.formats),
    )

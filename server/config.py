"""Settings from the command line, the environment and an optional TOML file.

Precedence: command line, then environment, then the file, then defaults. Everything is
validated once at start; a bad value stops the process with a message that says what to
do, never a traceback.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from moderation.pipeline import build_pipeline

from .core.errors import CommandError
from .core.model import ROOM_ID_MESSAGE, ROOM_KINDS, Settings, valid_room_id
from .gateway.limits import Limits, trusted_networks
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
class MediaConfig:
    host_candidates: tuple[str, ...] | None = None
    ice_servers: tuple[Mapping[str, Any], ...] = ()
    opus_bitrate: int = 28000


@dataclass(frozen=True)
class Config:
    secret: str
    host: str = "127.0.0.1"
    port: int = 8080
    redis_url: str | None = None
    workers: int = 1
    admin_key: str | None = None
    allowed_origins: tuple[str, ...] | None = None  # None: same origin only
    demo: bool = False
    rooms: tuple[RoomSpec, ...] = ()
    oncall: OncallConfig = field(default_factory=OncallConfig)
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


def _rooms(raw: Any) -> tuple[RoomSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError("[[rooms]] must be an array of tables")
    out = []
    seen = set()
    for i, r in enumerate(raw):
        where = f"rooms[{i}]"
        if not isinstance(r, dict):
            raise ConfigError(f"{where} must be a table")
        unknown = set(r) - {"id", "kind", "title", "settings", "moderation"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        rid = r.get("id")
        if not valid_room_id(rid):
            raise ConfigError(f"{where}: {ROOM_ID_MESSAGE}")
        assert isinstance(rid, str)
        if rid in seen:
            raise ConfigError(f"{where}: room {rid} is defined twice")
        seen.add(rid)
        kind = r.get("kind", "circle")
        if kind not in ROOM_KINDS:
            raise ConfigError(f"{where}: kind must be one of {', '.join(ROOM_KINDS)}")
        settings = r.get("settings", {})
        if not isinstance(settings, dict):
            raise ConfigError(f"{where}: settings must be a table")
        try:
            Settings().updated(settings)
        except CommandError as e:
            raise ConfigError(f"{where}.settings: {e.message}") from None
        title = r.get("title", "")
        if not isinstance(title, str):
            raise ConfigError(f"{where}: title must be a string")
        mod = r.get("moderation")
        if mod is not None and not isinstance(mod, dict):
            raise ConfigError(f"{where}: moderation must be a table")
        out.append(RoomSpec(id=rid, kind=kind, title=title, settings=settings, moderation=mod))
    return tuple(out)


def _oncall(raw: Any) -> OncallConfig:
    if raw is None:
        return OncallConfig()
    if not isinstance(raw, dict):
        raise ConfigError("[oncall] must be a table")
    lines = raw.get("helplines")
    helplines: tuple[Helpline, ...] = DEFAULT_HELPLINES
    if lines is not None:
        if not isinstance(lines, list) or not lines:
            raise ConfigError("[[oncall.helplines]] must list at least one helpline")
        try:
            helplines = tuple(Helpline(name=str(h["name"]), phone=str(h["phone"]), hours=str(h.get("hours", "")))
                              for h in lines)
        except (KeyError, TypeError):
            raise ConfigError("each [[oncall.helplines]] needs a name and a phone") from None
    url = raw.get("webhook_url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise ConfigError("[oncall] webhook_url must be an http(s) URL")
    secret = raw.get("webhook_secret")
    if url and not secret:
        raise ConfigError("[oncall] webhook_secret is required with webhook_url (it signs each call)")
    return OncallConfig(webhook_url=url, webhook_secret=secret, helplines=helplines)


def _media(raw: Any) -> MediaConfig:
    if raw is None:
        return MediaConfig()
    if not isinstance(raw, dict):
        raise ConfigError("[media] must be a table")
    hc = raw.get("host_candidates")
    if hc is not None and (not isinstance(hc, list) or not all(isinstance(x, str) for x in hc)):
        raise ConfigError("[media] host_candidates must be a list of addresses")
    ice = raw.get("ice_servers", [])
    if not isinstance(ice, list):
        raise ConfigError("[media] ice_servers must be a list")
    for i, entry in enumerate(ice):
        urls = entry.get("urls") if isinstance(entry, dict) else None
        if not (isinstance(urls, str) or (isinstance(urls, list) and urls and all(isinstance(u, str) for u in urls))):
            raise ConfigError(f"[media] ice_servers[{i}] needs urls: a string or a list of strings")
        if not all(u.startswith(("stun:", "turn:", "turns:")) for u in ([urls] if isinstance(urls, str) else urls)):
            raise ConfigError(f"[media] ice_servers[{i}] urls must start with stun:, turn: or turns:")
        for k in ("username", "credential"):
            if k in entry and not isinstance(entry[k], str):
                raise ConfigError(f"[media] ice_servers[{i}].{k} must be a string")
        unknown = set(entry) - {"urls", "username", "credential"}
        if unknown:
            raise ConfigError(f"[media] ice_servers[{i}]: unknown keys {sorted(unknown)}")
    bitrate = raw.get("opus_bitrate", 28000)
    if not isinstance(bitrate, int) or not 6000 <= bitrate <= 128000:
        raise ConfigError("[media] opus_bitrate must be 6000-128000")
    return MediaConfig(host_candidates=tuple(hc) if hc is not None else None,
                       ice_servers=tuple(ice), opus_bitrate=bitrate)


def _limits(raw: Any) -> tuple[Limits, tuple[str, ...]]:
    if raw is None:
        return Limits(), ()
    if not isinstance(raw, dict):
        raise ConfigError("[limits] must be a table")
    numbers = {*Limits.INTS, *Limits.RATES, "send_buffer_bytes"}
    unknown = set(raw) - numbers - {"trusted_proxies"}
    if unknown:
        raise ConfigError(f"[limits]: unknown key(s) {', '.join(sorted(unknown))}")
    for k in numbers & set(raw):
        v = raw[k]
        if isinstance(v, bool) or not isinstance(v, int | float) or (k not in Limits.RATES and not isinstance(v, int)):
            raise ConfigError(f"[limits] {k} must be a number" + ("" if k in Limits.RATES else " (whole)"))
    try:
        limits = Limits(**{k: raw[k] for k in numbers & set(raw)})
    except ValueError as e:
        raise ConfigError(f"[limits] {e}") from None
    proxies = raw.get("trusted_proxies", [])
    if not isinstance(proxies, list) or not all(isinstance(p, str) for p in proxies):
        raise ConfigError('[limits] trusted_proxies must be a list of addresses or networks, like ["10.0.0.0/8"]')
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
    doc = _read_toml(path) if path else {}
    known = {"server", "rooms", "oncall", "moderation", "media", "audit", "limits"}
    unknown = set(doc) - known
    if unknown:
        raise ConfigError(f"config file: unknown table(s) {', '.join(sorted(unknown))}")
    srv = doc.get("server", {})
    if not isinstance(srv, dict):
        raise ConfigError("[server] must be a table")

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
    redis_url = pick("redis_url", "CIRCLES_REDIS_URL", "redis_url", None)
    if redis_url and not str(redis_url).startswith(("redis://", "rediss://", "redis+sentinel://", "unix://")):
        raise ConfigError("the Redis URL must start with redis://, rediss:// or redis+sentinel://")
    moderation = doc.get("moderation")
    try:
        build_pipeline(moderation)
        for spec in _rooms(doc.get("rooms")):
            if spec.moderation is not None:
                build_pipeline(moderation, spec.moderation)
    except ValueError as e:
        raise ConfigError(f"[moderation]: {e}") from None
    audit = doc.get("audit", {})
    limits, trusted_proxies = _limits(doc.get("limits"))
    return Config(
        secret=secret,
        host=str(pick("host", "CIRCLES_HOST", "host", "127.0.0.1")),
        port=_int("port", pick("port", "CIRCLES_PORT", "port", 8080), 0, 65535),
        redis_url=redis_url,
        workers=_int("workers", pick("workers", "CIRCLES_WORKERS", "workers", 1), 1, 256),
        admin_key=_key("CIRCLES_ADMIN_KEY (admin_key)", pick("admin_key", "CIRCLES_ADMIN_KEY", "admin_key", None)),
        metrics_key=_key("CIRCLES_METRICS_KEY (metrics_key)",
                         pick("metrics_key", "CIRCLES_METRICS_KEY", "metrics_key", None)),
        allowed_origins=origins,
        demo=demo,
        rooms=_rooms(doc.get("rooms")),
        oncall=_oncall(doc.get("oncall")),
        moderation=moderation,
        media=_media(doc.get("media")),
        audit_retention_days=_int("audit.retention_days", audit.get("retention_days", 30), 1, 3650),
        log_level=str(pick("log_level", "CIRCLES_LOG_LEVEL", "log_level", "INFO")).upper(),
        secret_generated=generated,
        limits=limits,
        trusted_proxies=trusted_proxies,
    )

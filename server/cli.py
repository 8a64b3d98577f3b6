"""The ``circles`` command: ``circles serve`` and ``circles token`` (contract §1)."""

from __future__ import annotations

import argparse
import dataclasses
import gc
import logging
import os
import secrets
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from aiohttp import web

from . import workers
from .config import Config, ConfigError, RoomSpec, load_config
from .core.errors import CommandError
from .jsonlog import setup_logging
from .tokens import DEFAULT_TTL, mint

log = logging.getLogger("circles")

DEMO_ROOMS = (
    RoomSpec(id="demo", kind="circle", title="Demo circle", settings={"share_seconds": 120, "warn_seconds": 20}),
    RoomSpec(id="oncall", kind="oncall", title="On-call room"),
)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="circles", description="Circles: live peer-support circles.")
    sub = ap.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", default=None, help="address to listen on [127.0.0.1]")
    serve.add_argument("--port", type=int, default=None, help="port to listen on [8080]")
    serve.add_argument("--redis-url", dest="redis_url", default=None, help="share state through Redis")
    serve.add_argument("--workers", type=int, default=None, help="worker processes (needs --redis-url)")
    serve.add_argument("--config", default=None, help="TOML configuration file")
    serve.add_argument("--demo", action="store_true", help="create demo rooms and print join links")
    tok = sub.add_parser("token", help="print one signed join token")
    tok.add_argument("--room", required=True, help="room id, or * for any room")
    tok.add_argument("--role", required=True, choices=("member", "facilitator", "responder"))
    tok.add_argument("--name", required=True, help="display name (first name or nickname)")
    tok.add_argument("--sub", default=None, help="stable pseudonymous id [random]")
    tok.add_argument("--ttl", type=int, default=DEFAULT_TTL, help=f"seconds the token is valid [{DEFAULT_TTL}]")
    return ap


def _fail(message: str) -> int:
    sys.stderr.write(f"circles: {message}\n")
    return 2


def token_main(args: argparse.Namespace) -> int:
    secret = os.environ.get("CIRCLES_SECRET")
    if not secret:
        return _fail("CIRCLES_SECRET is not set; it must be the same secret the server uses")
    try:
        token, _ = mint(secret, sub=args.sub or "p-" + secrets.token_hex(8), name=args.name,
                        role=args.role, room=args.room, ttl=args.ttl)
    except CommandError as e:
        return _fail(e.message)
    sys.stdout.write(token + "\n")
    return 0


def _demo_links(config: Config) -> None:
    base = f"http://{config.host if config.host not in ('0.0.0.0', '::') else '127.0.0.1'}:{config.port}"
    lines = ["", "Circles demo is running. Open these links (they are valid for 4 hours):", ""]
    for role, name, room in (("facilitator", "Facilitator", "demo"), ("member", "Member", "demo"),
                             ("member", "Visitor", "oncall"), ("responder", "Responder", "*")):
        token, _ = mint(config.secret, sub=f"demo-{role}-{secrets.token_hex(3)}", name=name, role=role, room=room)
        where = "demo" if room == "*" else room
        lines.append(f"  {role:<12} in {where:<7} {base}/#room={where}&token={token}")
    if config.admin_key:
        lines += ["", f"  staff console: {base}/staff  (admin key: {config.admin_key})"]
    lines.append("")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def serve_main(args: argparse.Namespace) -> int:
    cli = {k: v for k, v in vars(args).items() if k != "command" and v not in (None, False)}
    try:
        config = load_config(cli)
    except ConfigError as e:
        return _fail(str(e))
    setup_logging(config.log_level)
    if cli.get("redis_url") and urlsplit(str(cli["redis_url"])).password:
        log.warning("the Redis URL on the command line holds a password that any user of this machine can read "
                    "(ps); set CIRCLES_REDIS_URL or [server] redis_url in the config file instead")
    if config.workers > 1 and not config.redis_url:
        return _fail("--workers above 1 needs --redis-url: the workers share state through Redis")
    parent = workers.worker_of()
    if config.workers > 1:
        if config.demo:
            _demo_links(config)
        return workers.supervise(config, cli.get("config"))
    if config.demo:
        have = {r.id for r in config.rooms}
        config = dataclasses.replace(config, rooms=config.rooms + tuple(r for r in DEMO_ROOMS if r.id not in have),
                                     # The staff console needs an admin key: a demo makes one and prints it.
                                     admin_key=config.admin_key or secrets.token_hex(24))
    from .app import create_app  # here, so that `circles token` starts fast

    # One of `--workers N`: share the port, and serve websocket only (see workers.py).
    app = create_app(config, transports=["websocket"] if parent is not None else None)
    if parent is not None:
        workers.watch_parent(app, parent)
    elif config.demo:
        _demo_links(config)
    app.on_startup.append(_freeze_heap)
    log.info("listening", extra={"host": config.host, "port": config.port,
                                 "store": "redis" if config.redis_url else "memory"})
    web.run_app(app, host=config.host, port=config.port, print=None, shutdown_timeout=5,
                access_log=None, handle_signals=True, reuse_port=parent is not None)
    log.info("stopped")
    return 0


async def _freeze_heap(app: web.Application) -> None:
    """What start-up made (modules, their tables, the app, the configured rooms) lives
    as long as the process: moved out of the collector's way, a full collection walks
    only what serving made. With ~160,000 objects from start-up, each full collection
    took ~80 ms under the protocol fuzzer (bench/fuzz.py), most of the probes' p99.
    Only here, in the server's own process: a test process makes many apps."""
    gc.collect()
    gc.freeze()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "token":
        return token_main(args)
    return serve_main(args)


if __name__ == "__main__":
    sys.exit(main())

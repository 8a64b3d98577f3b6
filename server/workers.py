"""``circles serve --workers N``: N worker processes on one port (SO_REUSEPORT).

The parent only supervises: it starts each worker as ``circles serve --workers 1`` with
``CIRCLES_WORKER_OF=<parent pid>`` in its environment (and the secret and the Redis URL,
which must never be on a command line anyone on the machine can read), forwards SIGTERM and SIGINT to
them, restarts one that dies (unless it dies straight after starting, which is a
configuration problem that restarting will not fix), and exits when they have all exited.

Each worker binds the port itself with SO_REUSEPORT, so the kernel spreads connections
over them; they share every room through Redis. Long-polling is refused in this mode
(``transports=["websocket"]``): the requests of one polling session would land on
random workers. A worker stops by itself if its parent disappears (``kill -9`` of the
parent), rather than serve on unsupervised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Final

from aiohttp import web

from .config import Config

log = logging.getLogger("circles.workers")

WORKER_ENV: Final = "CIRCLES_WORKER_OF"
# A worker that exits sooner than this after starting is failing to start, not crashing
# in service: stop everything and say so instead of restarting it in a loop.
MIN_UPTIME_S: Final = 5.0
# How long workers get to say goodbye to their clients before they are killed.
STOP_TIMEOUT_S: Final = 15.0
SUPERVISE_TICK_S: Final = 0.2
PARENT_CHECK_S: Final = 1.0


def worker_of() -> int | None:
    """The supervising parent's pid, when this process is one of its workers."""
    raw = os.environ.get(WORKER_ENV)
    return int(raw) if raw and raw.isdigit() else None


def _worker_argv(config: Config) -> list[str]:
    argv = [sys.executable, "-m", "server", "serve", "--workers", "1", "--host", config.host,
            "--port", str(config.port)]
    if config.demo:
        argv.append("--demo")
    return argv


@dataclass
class _Worker:
    index: int
    proc: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)


def supervise(config: Config, config_path: str | None) -> int:
    if config.port == 0:
        log.error("--workers needs a fixed --port: the workers share it")
        return 2
    env = dict(os.environ)
    env[WORKER_ENV] = str(os.getpid())
    env["CIRCLES_SECRET"] = config.secret  # --demo generates one: all workers must share it
    # In the environment, not on the command line: any user of the machine can read a
    # process's command line (ps, /proc/<pid>/cmdline), and the URL may hold a password.
    if config.redis_url:
        env["CIRCLES_REDIS_URL"] = config.redis_url
    env.pop("CIRCLES_WORKERS", None)
    if config_path:
        env["CIRCLES_CONFIG"] = config_path
    argv = _worker_argv(config)

    def spawn(index: int) -> _Worker:
        # Their own session: a terminal's Ctrl-C reaches the parent only, which forwards
        # one SIGTERM, instead of every process getting it at once.
        proc = subprocess.Popen(argv, env=env, start_new_session=True)
        log.info("worker started", extra={"pid": proc.pid, "worker": str(index)})
        return _Worker(index, proc)

    workers = [spawn(i) for i in range(config.workers)]
    stopping: list[float] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        if not stopping:
            stopping.append(time.monotonic())
            log.info("stopping workers", extra={"workers": len(workers)})
        for w in workers:
            if w.proc.poll() is None:
                w.proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    failed = False
    while True:
        time.sleep(SUPERVISE_TICK_S)
        if stopping:
            alive = [w for w in workers if w.proc.poll() is None]
            if not alive:
                break
            if time.monotonic() - stopping[0] > STOP_TIMEOUT_S:
                for w in alive:
                    w.proc.kill()
            continue
        for i, w in enumerate(workers):
            code = w.proc.poll()
            if code is None:
                continue
            log.warning("worker exited", extra={"pid": w.proc.pid, "code": code})
            if time.monotonic() - w.started < MIN_UPTIME_S:
                log.error("a worker failed to start; stopping", extra={"pid": w.proc.pid, "code": code})
                failed = True
                stop(signal.SIGTERM, None)
                break
            workers[i] = spawn(w.index)
    log.info("stopped", extra={"workers": len(workers)})
    return 1 if failed else 0


def watch_parent(app: web.Application, parent: int) -> None:
    """Stop this worker (gracefully) when its supervisor is gone."""

    async def watch() -> None:
        # Polling, because nothing signals it portably (PR_SET_PDEATHSIG is Linux-only).
        while True:
            await asyncio.sleep(PARENT_CHECK_S)
            if os.getppid() != parent:
                break
        log.warning("supervisor gone; stopping", extra={"pid": parent})
        os.kill(os.getpid(), signal.SIGTERM)

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(watch(), name="circles-parent-watch")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(ctx)

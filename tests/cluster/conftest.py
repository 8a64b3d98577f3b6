"""A real cluster: one redis-server of the tests' own and three `circles serve` processes,
each on its own free port of 127.0.0.1, all with the same ``--redis-url``.

The cluster lives for the whole ``tests/cluster`` session (starting workers costs
seconds); tests use rooms of their own, and ``ensure_running()`` brings back a worker
that an earlier test killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.redis_server import RedisServer, free_port
from tests.support import ADMIN_KEY, SECRET, Client, token

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0
# A configured on-call room: it must stay open, even after Redis lost everything.
CONFIG = """
[[rooms]]
id = "oncall"
kind = "oncall"
title = "On-call room"

[media]
host_candidates = ["127.0.0.1"]

# Attendance for one circle of its own (tests/cluster/test_attendance_failover.py).
[attendance]
enabled = true
rooms = ["attendance-failover"]
"""


def http_status(url: str, timeout: float = 3.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except (urllib.error.URLError, OSError):
        return 0


@dataclass
class Worker:
    index: int
    port: int
    redis_url: str
    log_path: Path
    config: Path
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)  # more CIRCLES_* settings

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLES_")}
        env.update(CIRCLES_SECRET=SECRET, CIRCLES_ADMIN_KEY=ADMIN_KEY, **self.env)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--redis-url", self.redis_url, "--config", str(self.config)], cwd=ROOT, env=env, stdout=log, stderr=log)
        log.close()

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while http_status(self.url + "/healthz", timeout=1.0) != 200:
            assert self.alive, f"worker {self.index} exited; see {self.log_path}"
            assert time.monotonic() < deadline, f"worker {self.index} did not start; see {self.log_path}"
            time.sleep(0.05)  # polling during startup: there is no event to await

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=15)


@dataclass
class Cluster:
    redis: RedisServer
    workers: list[Worker]
    clients: list[Client] = field(default_factory=list)

    def ensure_running(self) -> None:
        dead = [w for w in self.workers if not w.alive]
        for w in dead:
            w.start()
        for w in dead:
            w.wait_healthy()

    async def client(self, worker: int, room: str, role: str = "member", name: str | None = None, *,
                     join: bool = True, sub: str | None = None) -> Client:
        c = Client(self.workers[worker].url, token(room, role, name=name, sub=sub), name=name or role)
        self.clients.append(c)
        await c.connect()
        if join:
            await c.join(room)
        return c

    def logs(self) -> str:
        return "".join(w.log_path.read_text(errors="replace") for w in self.workers if w.log_path.exists())


@pytest.fixture(scope="session")
def cluster_procs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    logs = tmp_path_factory.mktemp("cluster-logs")
    config = logs / "circles.toml"
    config.write_text(CONFIG)
    redis = RedisServer().start()
    workers = [Worker(i, free_port(), redis.url, logs / f"worker{i}.log", config) for i in range(3)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.wait_healthy()
        yield Cluster(redis, workers)
    finally:
        for w in workers:
            w.kill(signal.SIGTERM)
        redis.close()


@pytest.fixture
async def cluster(cluster_procs: Cluster) -> AsyncIterator[Cluster]:
    """The cluster, with every worker running (a killed one is started again)."""
    cluster_procs.ensure_running()
    yield cluster_procs
    for c in cluster_procs.clients:
        await c.close()
    cluster_procs.clients.clear()


@pytest.fixture
async def survivors(cluster_procs: Cluster) -> AsyncIterator[Cluster]:
    """The cluster as an earlier test left it: workers 0 and 1 run, 2 may be dead."""
    for w in cluster_procs.workers[:2]:
        assert w.alive, f"worker {w.index} died; see {w.log_path}"
    yield cluster_procs
    for c in cluster_procs.clients:
        await c.close()
    cluster_procs.clients.clear()
    for c in cluster_procs.clients:
        await c.close()
    cluster_procs.clients.clear()

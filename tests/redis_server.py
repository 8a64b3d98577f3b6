"""A real ``redis-server`` of the tests' own, on a free port of 127.0.0.1, keeping nothing
on disk (``--save "" --appendonly no``). Never the machine's Redis on 6379, never a fake.

``redis-server`` must be installed (``scripts/setup.sh --test`` installs it): without it
these fixtures fail loudly rather than skip, so a CI that lost Redis cannot go green.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

START_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One redis-server process; ``restart()`` brings it back on the same port, empty."""

    def __init__(self, port: int | None = None, args: tuple[str, ...] = ()) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed; run scripts/setup.sh --test "
                               "(apt-get install redis-server)")
        self.binary = binary
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="circles-redis-"))
        self.socket_path = self.dir / "redis.sock"
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def unix_url(self) -> str:
        return f"unix://{self.socket_path}?db=0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir), "--unixsocket", str(self.socket_path), "--unixsocketperm", "700",
             "--loglevel", "warning", "--daemonize", "no", *self.args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode} on port {self.port}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith((b"+PONG", b"-NOAUTH")):  # up (and maybe password-protected)
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer on port {self.port}")
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def files_on_disk(self) -> list[str]:
        """Everything redis-server wrote to its directory, besides its socket."""
        return sorted(p.name for p in self.dir.iterdir() if p != self.socket_path)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def running_redis(port: int | None = None) -> Iterator[RedisServer]:
    server = RedisServer(port).start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied for this test."""
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()  # a test stopped it
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushall()
    return redis_server.url


class SentinelGroup:
    """A primary, its replicas and three sentinels, all ``redis-server`` processes on free
    ports of 127.0.0.1 that keep nothing on disk: a real Sentinel failover, for tests and
    for the soak harness (``bench/``).

    ::

        group = SentinelGroup().start()   # primary + 1 replica + 3 sentinels, all in sync
        group.url                          # redis+sentinel://127.0.0.1:S1,...:S3/circles
        old = group.kill_primary()         # SIGKILL; returns the RedisServer killed
        new = group.wait_for_promotion()   # the replica the sentinels promoted (RedisServer)
        group.primary                      # the current primary, as the sentinels say
        group.close()                      # everything stopped, temp dirs gone

    ``replica_via(port)`` lets a replica reach its primary through something else (a
    ``tests.chaos_proxy.ChaosProxy`` in front of the primary, to stall replication):
    pass ``replica_upstream`` = a callable giving the port the replica should dial.
    Failover is quick: ``down_after_ms`` (1 s) to agree the primary is down, then an
    election; ``failover_timeout_ms`` bounds a failover that does not complete.
    """

    SERVICE = "circles"

    def __init__(self, replicas: int = 1, sentinels: int = 3, quorum: int = 2, down_after_ms: int = 1000,
                 failover_timeout_ms: int = 3000, replica_upstream: int | None = None) -> None:
        self.primary_server = RedisServer()
        self.replicas = [RedisServer() for _ in range(replicas)]
        self.servers = [self.primary_server, *self.replicas]
        self.sentinel_ports = [free_port() for _ in range(sentinels)]
        self.quorum = quorum
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        # Where replicas dial their primary: its own port, or a proxy in front of it.
        self.replica_upstream = replica_upstream
        self.dir = Path(tempfile.mkdtemp(prefix="circles-sentinel-"))
        self.sentinel_procs: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        """The URL workers are given (``--redis-url``)."""
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{self.SERVICE}"

    def start(self) -> SentinelGroup:
        self.primary_server.start()
        upstream = self.replica_upstream or self.primary_server.port
        for r in self.replicas:
            r.args = (*r.args, "--replicaof", "127.0.0.1", str(upstream))
            r.start()
        self.wait_in_sync()
        for i, port in enumerate(self.sentinel_ports):
            conf = self.dir / f"sentinel-{i}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.dir}\n"
                f"sentinel monitor {self.SERVICE} 127.0.0.1 {self.primary_server.port} {self.quorum}\n"
                f"sentinel down-after-milliseconds {self.SERVICE} {self.down_after_ms}\n"
                f"sentinel failover-timeout {self.SERVICE} {self.failover_timeout_ms}\n"
                f"sentinel parallel-syncs {self.SERVICE} 1\n")
            self.sentinel_procs.append(subprocess.Popen(
                [self.primary_server.binary, str(conf), "--sentinel", "--loglevel", "warning"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        # Up, and each knows the primary's replicas and the other sentinels.
        self._until(lambda: all(self._sentinel_sees_all(p) for p in self.sentinel_ports),
                    START_TIMEOUT_S * 2, "sentinels did not discover the group")
        return self

    def wait_in_sync(self, timeout: float = START_TIMEOUT_S) -> None:
        """Every replica is connected to the current primary and has caught up."""
        primary = self.primary if self.sentinel_procs else self.primary_server

        def synced() -> bool:
            with redis.Redis(port=primary.port, socket_timeout=1) as c:
                info = c.info("replication")
            live = sum(1 for r in self.servers if r is not primary and r.proc is not None)
            return int(info.get("connected_slaves", 0)) >= live and all(
                info[k].get("state") == "online" for k in info if k.startswith("slave") and isinstance(info[k], dict))
        self._until(synced, timeout, "replicas did not sync")

    def _sentinel_sees_all(self, port: int) -> bool:
        with redis.Redis(port=port, socket_timeout=1, decode_responses=True) as s:
            m = s.sentinel_master(self.SERVICE)
            return (int(m.get("num-slaves", 0)) >= len(self.replicas)
                    and int(m.get("num-other-sentinels", 0)) >= len(self.sentinel_ports) - 1)

    @property
    def primary(self) -> RedisServer:
        """The server the sentinels now call the primary."""
        host, port = self.primary_address()
        for s in self.servers:
            if s.port == port:
                return s
        raise RuntimeError(f"sentinels name an unknown primary {host}:{port}")

    def primary_address(self) -> tuple[str, int]:
        """(host, port) of the primary, as the first sentinel that answers says."""
        for port in self.sentinel_ports:
            try:
                with redis.Redis(port=port, socket_timeout=1, decode_responses=True) as s:
                    host, p = s.sentinel_get_master_addr_by_name(self.SERVICE)
                    return str(host), int(p)
            except (redis.RedisError, OSError, TypeError):
                continue
        raise RuntimeError("no sentinel answers")

    def kill_primary(self) -> RedisServer:
        """SIGKILL the current primary (no goodbye, nothing flushed); it stays down."""
        old = self.primary
        old.stop(signal.SIGKILL)
        return old

    def wait_for_promotion(self, timeout: float = 30.0) -> RedisServer:
        """Wait until the sentinels name a live primary other than the one killed, and it
        answers as a primary (``ROLE`` master). Returns it."""
        found: list[RedisServer] = []

        def promoted() -> bool:
            try:
                p = self.primary
            except RuntimeError:
                return False
            if p.proc is None or p.proc.poll() is not None:
                return False
            with redis.Redis(port=p.port, socket_timeout=1) as c:
                if c.execute_command("ROLE")[0] not in (b"master", "master"):
                    return False
            found[:] = [p]
            return True
        self._until(promoted, timeout, "no replica was promoted")
        return found[0]

    def restart_as_replica(self, server: RedisServer) -> None:
        """Bring a killed server back (empty) as a replica of the current primary, as an
        operator would; the sentinels then list it again."""
        server.args = tuple(a for a in server.args if a != "--replicaof")
        server.args = ("--replicaof", "127.0.0.1", str(self.primary.port))
        server.start()

    @staticmethod
    def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if check():
                    return
            except (redis.RedisError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(what)
            time.sleep(0.05)  # process-level state: polled with a deadline

    def close(self) -> None:
        for proc in self.sentinel_procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.sentinel_procs.clear()
        for s in self.servers:
            s.close()
        shutil.rmtree(self.dir, ignore_errors=True)

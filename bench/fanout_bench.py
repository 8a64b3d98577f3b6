"""Text fan-out, side by side: Circles vs Node.js socket.io 4.8 vs stock python-socketio.

    .venv/bin/python bench/fanout_bench.py            # full run, about 4-5 minutes
    .venv/bin/python bench/fanout_bench.py --quick    # about 1-1.5 minutes, rougher numbers
    .venv/bin/python bench/fanout_bench.py --servers circles,circles-queued   # a variant

For each server, in one run, on 127.0.0.1 only:

1. start it (Circles: ``python -m server serve --config`` with an empty moderation pipeline
   and predefined rooms whose ``auto_advance`` is off; Node: ``bench/fanout/node_server.js``;
   stock: ``bench/fanout/stock_python.py``);
2. start the Node.js load generator ``bench/fanout/load.js`` (its own process). It joins
   ROOMS x 30 clients; the server's RSS before and after the last ROOMS-1 rooms joined,
   divided by their clients, is the memory per idle connection;
3. ramp the total message rate (every client sends in turn; every member of the room,
   sender included, receives each message) while the server keeps up: deliveries per
   server CPU-second (``/proc/<pid>/stat`` utime+stime over the measured window), the
   send->receive latency of every delivery, the generator's own CPU use and the CPU that
   other processes took (so it shows when the generator or the machine, not the server,
   is the limit);
4. run at half of the saturation rate and report p50/p99 delivery latency;
5. turn-taking: ``hand.raise``/``hand.lower`` at 2,000/s (and 200/s in a full run), the
   ack round trip (for Circles also the server-side command time from its /metrics).

The machine has 2 cores and the generator needs one of them: numbers are only as quiet
as the machine is. Run it a couple of times; ``--json FILE`` keeps every step.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import queue
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "bench" / "fanout"
PYTHON = ROOT / ".venv" / "bin" / "python"
MEMBERS = 30
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The Circles gateway's flood guard refills 10 events per second per connection: keep
# every client under it so that the guard never shapes the load.
PER_CLIENT_MAX = 9.0


@dataclass
class Plan:
    rooms: int
    warmup: float
    measure: float
    drain: float
    start_rate: float
    factor: float
    half_measure: float
    turns_rates: tuple[float, ...]
    turns_measure: float
    bisect: int
    retries: int


FULL = Plan(rooms=20, warmup=1.0, measure=3.0, drain=3.0, start_rate=150, factor=1.6, half_measure=5.0,
            turns_rates=(200, 2000), turns_measure=4.0, bisect=1, retries=2)
QUICK = Plan(rooms=10, warmup=0.5, measure=1.5, drain=1.5, start_rate=150, factor=2.0, half_measure=2.0,
             turns_rates=(2000,), turns_measure=2.0, bisect=0, retries=1)


@dataclass
class Result:
    name: str
    label: str
    clients: int = 0
    kb_per_conn: float | None = None
    rss_idle_mb: float | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    saturation_dps: float | None = None
    saturation_note: str = ""
    peak: dict[str, Any] | None = None
    half: dict[str, Any] | None = None
    turns: list[dict[str, Any]] = field(default_factory=list)  # one per rate, lowest first
    error: str | None = None


def say(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout}s")


def ensure_node_modules() -> None:
    if (HERE / "node_modules" / "socket.io" / "package.json").exists() and \
            (HERE / "node_modules" / "socket.io-client" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed: bench/fanout uses Node.js socket.io 4.8")
    say("installing bench/fanout node_modules (npm ci)...")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=HERE, check=True)


class Load:
    """The load generator process: JSON commands in, JSON lines out."""

    def __init__(self, cfg: dict[str, Any], log: Path, prefix: list[str]) -> None:
        node = shutil.which("node") or "node"
        self.proc = subprocess.Popen([*prefix, node, str(HERE / "load.js"), json.dumps(cfg)], cwd=HERE,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log.open("wb"))
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.put(raw.decode())
        self.lines.put(None)

    def expect(self, event: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"load generator: no {event!r} within {timeout:.0f}s")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"load generator exited ({self.proc.wait()}) while waiting for {event!r}")
            msg = json.loads(line)
            if msg.get("event") == "error":
                raise RuntimeError(f"load generator: {msg.get('message')}")
            if msg.get("event") == event:
                return msg  # type: ignore[no-any-return]

    def send(self, cmd: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        self.proc.stdin.flush()

    def close(self) -> None:
        try:
            self.send({"cmd": "quit"})
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def circles_config(path: Path, rooms: int, prefix: str) -> None:
    lines = ["# fanout_bench: no moderation hooks (the rate-limit hook would shape the load)",
             "[moderation]", "pipeline = []", "",
             "# every client of the load generator is one loopback address: lift the",
             "# per-address limits (a real deployment's clients come from many addresses)",
             "[limits]", "address_burst = 1000000", "address_per_s = 1000000.0", "address_conns = 1000000", ""]
    for i in range(rooms):
        # auto_advance off: hand.raise / hand.lower only move the queue (one commit each),
        # nobody is granted the floor, so no timers run during the bench.
        lines += ["[[rooms]]", f'id = "{prefix}-{i}"', f'title = "Bench {i}"', "[rooms.settings]",
                  "auto_advance = false", "max_participants = 50", ""]
    path.write_text("\n".join(lines))


def start_server(name: str, port: int, tmp: Path, rooms: int, prefix: str, secret: str,
                 pin: str | None) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if name.startswith("circles"):
        cfg = tmp / "circles.toml"
        circles_config(cfg, rooms, prefix)
        env.update(CIRCLES_SECRET=secret, CIRCLES_LOG_LEVEL="WARNING")
        serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--config", str(cfg)]
        if name == "circles":
            cmd = [str(PYTHON), "-m", "server", *serve]
        else:  # a proposed change, applied at run time by bench/fanout/circles_whatif.py
            cmd = [str(PYTHON), str(HERE / "circles_whatif.py"), name.split("-", 1)[1], *serve]
        cwd = ROOT
    elif name == "node":
        cmd = [shutil.which("node") or "node", str(HERE / "node_server.js"), "--port", str(port)]
        cwd = HERE
    else:
        cmd = [str(PYTHON), str(HERE / "stock_python.py"), "--port", str(port)]
        cwd = ROOT
    if pin is not None:
        cmd = ["taskset", "-c", pin, *cmd]
    err = (tmp / f"{name}.stderr").open("wb")
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def circles_command_hist(port: int, events: tuple[str, ...]) -> dict[str, float]:
    """Cumulative bucket counts of circles_command_seconds for ``events``, summed."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith("circles_command_seconds_bucket{"):
            continue
        labels, value = line[len("circles_command_seconds_bucket{"):].rsplit("}", 1)
        kv = dict(part.split("=", 1) for part in labels.split(","))
        if kv.get("event", "").strip('"') in events:
            le = kv["le"].strip('"')
            out[le] = out.get(le, 0.0) + float(value)
    return out


def hist_summary(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """From two cumulative bucket snapshots: count, share within 2 ms, p99's bucket."""
    diff = {le: after.get(le, 0.0) - before.get(le, 0.0) for le in after}
    total = diff.get("+Inf", 0.0)
    les = sorted((float(le), n) for le, n in diff.items() if le != "+Inf")
    p99_le: float | None = None
    for le, n in les:
        if total and n >= 0.99 * total:
            p99_le = le
            break
    return {"count": int(total), "within_2ms": (diff.get("0.002", 0.0) / total) if total else None,
            "p99_bucket_ms": p99_le * 1000 if p99_le is not None else None}


def keeps_up(st: dict[str, Any]) -> tuple[bool, str]:
    """The server delivered what was offered: every delivery, at the offered rate, no errors."""
    if st["ack_errors"]:
        return False, f"ack errors {st['ack_errors']}"
    if st["complete"] < 0.999:
        return False, f"only {st['complete']:.1%} delivered within the drain time"
    if st["delivery_rate"] < 0.95 * st["send_rate"] * MEMBERS:
        return False, f"delivered {st['delivery_rate']:.0f}/s of {st['send_rate'] * MEMBERS:.0f}/s offered"
    if st["server_cpu_frac"] > 0.95:
        return False, f"server CPU {st['server_cpu_frac']:.0%}"
    return True, ""


def healthy(st: dict[str, Any], rate: float) -> tuple[bool, str]:
    """Keeps up, with p99 within 50 ms, at the rate asked for."""
    ok, why = keeps_up(st)
    if not ok:
        return ok, why
    lat = st["latency_ms"]
    if lat["p99"] is None or lat["p99"] > 50:
        return False, f"p99 {lat['p99']} ms"
    if st["send_rate"] < 0.97 * rate:
        return False, "the generator could not keep the rate"
    return True, ""


def fmt_step(st: dict[str, Any]) -> str:
    lat = st["latency_ms"]
    dpc = st["deliveries_per_cpu_s"]
    return (f"    rate {st['rate']:7.0f} msg/s  sent {st['send_rate']:7.0f}/s  delivered {st['delivery_rate']:8.0f}/s"
            f"  srv CPU {st['server_cpu_frac']:4.0%}  gen CPU {st['gen_cpu_frac']:4.0%}"
            f"  others {max(0.0, st['others_cpu']):4.0%}"
            f"  dlv/CPU-s {dpc if dpc is None else round(dpc):>7}"
            f"  p50 {lat['p50']} p99 {lat['p99']} ms  complete {st['complete']:.2%}")


def run_server(name: str, label: str, plan: Plan, tmp: Path, pin_server: str | None,
               pin_load: str | None, turns: bool, client: str, deflate: bool) -> Result:
    res = Result(name, label)
    port = free_port()
    secret = secrets.token_urlsafe(36)
    prefix = "bench"
    proc = start_server(name, port, tmp, plan.rooms, prefix, secret, pin_server)
    load: Load | None = None
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        cfg = {"url": f"http://127.0.0.1:{port}", "kind": name, "secret": secret, "rooms": plan.rooms,
               "members": MEMBERS, "prefix": prefix, "serverPid": proc.pid, "clkTck": CLK_TCK,
               "textBytes": 64, "warmRooms": 1, "client": client, "deflate": deflate}
        load = Load(cfg, tmp / f"load-{name}.stderr", ["taskset", "-c", pin_load] if pin_load is not None else [])
        warm = load.expect("warm", 60)
        time.sleep(1.0)
        rss0 = rss_kb(proc.pid)
        load.send({"cmd": "continue"})
        ready = load.expect("ready", 120)
        time.sleep(1.5)
        rss1 = rss_kb(proc.pid)
        res.clients = ready["clients"]
        idle_n = ready["clients"] - warm["clients"]
        res.kb_per_conn = (rss1 - rss0) / idle_n
        res.rss_idle_mb = rss1 / 1024
        say(f"  {ready['clients']} clients joined in {ready['joined_in_ms'] / 1000:.1f}s; "
            f"RSS {rss0 / 1024:.1f} -> {rss1 / 1024:.1f} MB: {res.kb_per_conn:.1f} KB per idle connection")

        def step(rate: float, measure: float, phase: str = "ramp") -> dict[str, Any]:
            load.send({"cmd": "step", "rate": rate, "warmup": plan.warmup, "measure": measure, "drain": plan.drain})
            st = load.expect("step", measure + plan.warmup + plan.drain + 60)
            st["phase"] = phase
            res.steps.append(st)
            say(fmt_step(st))
            return st

        # Ramp: multiply the rate until the server saturates (or the generator does, or
        # the Circles flood guard's ceiling for this many clients is reached).
        cap = PER_CLIENT_MAX * res.clients if name.startswith("circles") else 40 * res.clients
        rate = plan.start_rate
        # The ramp goes on while the server keeps up (p99 may grow: the machine is shared,
        # and other work on it shows in the latency first); it stops at the first step
        # where it does not, or when the generator is at a full core, or at the cap.
        retries = plan.retries
        good: dict[str, Any] | None = None  # the highest step that kept up
        bad: dict[str, Any] | None = None
        why = ""
        while True:
            st = step(rate, plan.measure)
            ok, why = keeps_up(st)
            if not ok and retries and st["server_cpu_frac"] < 0.85 and st["others_cpu"] > 0.3:
                # Something else on the machine took the CPU: try this rate again.
                retries -= 1
                say(f"      (other processes used {st['others_cpu']:.0%} of a CPU; {why}: running it again)")
                continue
            if not ok:
                bad = st
                break
            good = st
            if st["gen_cpu_frac"] > 0.9:
                why = "the load generator is at a full core"
                break
            if rate >= cap:
                why = f"reached {cap:.0f} msg/s, the most this many clients send"
                break
            rate = min(cap, rate * plan.factor)
        for _ in range(plan.bisect):
            if good is None or bad is None:
                break
            st = step((good["rate"] + bad["rate"]) / 2, plan.measure)
            if keeps_up(st)[0]:
                good = st
            else:
                bad = st
        res.peak = good
        busiest = max(res.steps, key=lambda s: s["server_cpu_frac"])
        if busiest["server_cpu_frac"] >= 0.9 or (bad is not None and bad["server_cpu_frac"] > 0.85):
            # Out of CPU: the most it delivered (every delivery arriving) is its ceiling.
            kept = [s for s in res.steps if keeps_up(s)[0]] or res.steps
            res.saturation_dps = max(s["delivery_rate"] for s in kept)
            res.saturation_note = f"saturated (server CPU {busiest['server_cpu_frac']:.0%}; ramp stopped: {why})"
        else:
            # It never ran out of CPU (the generator, the cap or the machine's other work
            # stopped the ramp): its CPU cost per delivery says how far one core would go.
            ref = good or bad
            assert ref is not None
            res.saturation_dps = ref["deliveries_per_cpu_s"]
            res.saturation_note = f"not reached ({why or 'ramp ended'}); estimated as one core / CPU cost"
        half_rate = res.saturation_dps / 2 / MEMBERS
        if good is not None and half_rate > good["rate"] and res.saturation_note.startswith("not"):
            half_rate = good["rate"]
            res.saturation_note += "; 'half' run at the highest rate the generator held"
        say(f"  saturation ~{res.saturation_dps:,.0f} deliveries/s [{res.saturation_note}]; "
            f"half: {half_rate:.0f} msg/s")
        res.half = step(half_rate, plan.half_measure, "half")
        for turns_rate in plan.turns_rates if turns else ():
            events = ("hand.raise", "hand.lower")
            before = circles_command_hist(port, events) if name.startswith("circles") else None
            load.send({"cmd": "turns", "rate": turns_rate, "warmup": plan.warmup, "measure": plan.turns_measure})
            t = load.expect("turns", plan.turns_measure + plan.warmup + 60)
            if before is not None:
                t["server_side"] = hist_summary(before, circles_command_hist(port, events))
            res.turns.append(t)
            say(f"    turns {t['rate']:.0f}/s: sent {t['send_rate']:.0f}/s, ack p50 {t['ack_ms']['p50']} "
                f"p99 {t['ack_ms']['p99']} ms, server CPU {t['server_cpu_frac']:.0%}, errors {t['ack_errors']}"
                + (f", server-side {t['server_side']}" if "server_side" in t else ""))
    except Exception as e:  # a broken server is a result too: say so and go on to the next
        res.error = str(e)
        say(f"  FAILED: {e}")
    finally:
        if load is not None:
            load.close()
        stop(proc)
    return res


def n(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def ms(x: float | None) -> str:
    """Milliseconds; the latency histogram ends at 5 s."""
    if x is None:
        return "-"
    return "> 5000" if x >= 5000 else n(x, 2)


def table(results: list[Result]) -> str:
    common = results[0].steps[0]["rate"] if results and results[0].steps else 0
    turns_rate = next((r.turns[-1]["rate"] for r in results if r.turns), 0)
    head = ("server", f"dlv/CPU-s @{common:.0f}msg/s", "dlv/CPU-s @top", "saturation dlv/s", "half: msg/s",
            "p50 ms", "p99 ms", "KB/idle conn", f"turns@{turns_rate:.0f}/s p50/p99 ms")
    rows = []
    for r in results:
        if r.error and not r.steps:
            rows.append((r.label, f"FAILED: {r.error}"[:60], "", "", "", "", "", "", ""))
            continue
        if not r.steps:
            rows.append((r.label, "-", "-", "-", "-", "-", "-", n(r.kb_per_conn, 1), "-"))
            continue
        h = r.half or {}
        first = r.steps[0]
        rows.append((
            r.label,
            n(first.get("deliveries_per_cpu_s")),
            n(r.peak["deliveries_per_cpu_s"]) if r.peak else "-",
            n(r.saturation_dps) + ("" if r.saturation_note.startswith("saturated") else " (est)"),
            n(h.get("rate")),
            ms(h.get("latency_ms", {}).get("p50")),
            ms(h.get("latency_ms", {}).get("p99")),
            n(r.kb_per_conn, 1),
            f"{ms(r.turns[-1]['ack_ms']['p50'])} / {ms(r.turns[-1]['ack_ms']['p99'])}" if r.turns else "-",
        ))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    lines = ["  ".join(str(x).rjust(w) if i else str(x).ljust(w) for i, (x, w) in enumerate(zip(row, widths,
                                                                                                 strict=True)))
             for row in (head, *rows)]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def by_rate(results: list[Result]) -> str:
    """Deliveries per server CPU-second at each offered rate, every server side by side."""
    rates = sorted({st["rate"] for r in results for st in r.steps if st["phase"] == "ramp"})
    head = ["msg/s ->", *[f"{x:.0f}" for x in rates]]
    rows = []
    for r in results:
        ramp = [st for st in r.steps if st["phase"] == "ramp"]
        cells = []
        for x in rates:
            got = [st for st in ramp if st["rate"] == x]
            st = got[-1] if got else None  # the last try at that rate
            if st is None or st["deliveries_per_cpu_s"] is None:
                cells.append("")
            else:
                mark = "" if healthy(st, x)[0] else "*"
                cells.append(f"{st['deliveries_per_cpu_s'] / 1000:.1f}k{mark}")
        rows.append([r.label, *cells])
    widths = [max(len(str(row[i])) for row in (head, *rows)) for i in range(len(head))]
    return "\n".join("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths,
                                                                                                    strict=True)))
                     for row in (head, *rows))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a rougher run in about a minute")
    ap.add_argument("--servers", default="node,stock,circles",
                    help="comma list of node, stock, circles, and the variants circles-queued, "
                         "circles-gcfreeze, circles-uvloop (bench/fanout/circles_whatif.py)")
    ap.add_argument("--client", choices=("raw", "sio"), default="raw",
                    help="load generator client: raw (ws + the Socket.IO framing, cheap) or sio (socket.io-client)")
    ap.add_argument("--no-deflate", action="store_true",
                    help="clients do not offer permessage-deflate (browsers do; so does the default)")
    ap.add_argument("--rooms", type=int, default=None, help="30-member rooms to load [20; quick: 10]")
    ap.add_argument("--no-turns", action="store_true",
                    help="skip the hand.raise/hand.lower runs (--quick runs them for Circles only)")
    ap.add_argument("--turns-rate", type=float, default=None,
                    help="hand.raise/lower per second [200 then 2000 in a full run, 2000 in a quick one]")
    ap.add_argument("--pin", action="store_true",
                    help="pin each server to CPU 0 and the load generator to CPU 1 (taskset)")
    ap.add_argument("--keep", default=None, help="keep the servers' config and stderr in this directory")
    ap.add_argument("--json", default=None, help="write every measured step to this file")
    args = ap.parse_args()
    plan = QUICK if args.quick else FULL
    if args.rooms:
        plan = dataclasses.replace(plan, rooms=args.rooms)
    if args.turns_rate:
        plan = dataclasses.replace(plan, turns_rates=(args.turns_rate,))
    labels = {"node": "Node socket.io 4.8", "stock": "stock python-socketio", "circles": "Circles",
              "circles-queued": "Circles, queued writes",
              "circles-unbatched": "Circles, unbatched", "circles-gcfreeze": "Circles if: gc.freeze",
              "circles-uvloop": "Circles if: uvloop", "circles-profile": "Circles under cProfile"}
    names = [s.strip() for s in args.servers.split(",") if s.strip()]
    for s in names:
        if s not in labels:
            raise SystemExit(f"unknown server {s!r}; choose from {', '.join(labels)}")
    ensure_node_modules()  # the load generator is Node.js whichever servers run
    started = time.monotonic()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    say(f"fanout bench: {plan.rooms} rooms x {MEMBERS} members, {os.cpu_count()} CPUs, "
        f"loadavg {' '.join(load_before)}, client {args.client}, deflate {'off' if args.no_deflate else 'offered'}"
        f"{', pinned' if args.pin else ''}")
    results = []
    with tempfile.TemporaryDirectory(prefix="fanout-bench-") as d:
        tmp = Path(args.keep or d)
        tmp.mkdir(parents=True, exist_ok=True)
        for s in names:
            say(f"\n== {labels[s]}")
            results.append(run_server(s, labels[s], plan, tmp, "0" if args.pin else None,
                                      "1" if args.pin else None,
                                      not args.no_turns and (s.startswith("circles") or not args.quick), args.client,
                                      not args.no_deflate))
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    print()
    print(f"Fan-out in {MEMBERS}-member rooms ({plan.rooms} rooms, {plan.rooms * MEMBERS} clients), loopback, "
          f"{os.cpu_count()} CPUs; loadavg before {' '.join(load_before)}, after {' '.join(load_after)}; "
          f"{time.monotonic() - started:.0f}s")
    print(table(results))
    print("\nDeliveries per server CPU-second at each offered rate of the ramp (* = that step was not healthy:"
          " p99 > 50 ms, incomplete, or server CPU > 95%):")
    print(by_rate(results))
    print()
    by = {r.name: r for r in results}
    c, nd = by.get("circles"), by.get("node")
    if c and nd and c.steps and nd.steps:
        first = c.steps[0]["deliveries_per_cpu_s"] / nd.steps[0]["deliveries_per_cpu_s"]
        line = f"Circles / Node deliveries per CPU-second: {first:.2f} at {c.steps[0]['rate']:.0f} msg/s"
        if c.peak and nd.peak:
            line += f", {c.peak['deliveries_per_cpu_s'] / nd.peak['deliveries_per_cpu_s']:.2f} at each one's top"
        print(line + " (target >= 1.0)")
    for r in results:
        if r.error:
            print(f"  {r.label}: FAILED: {r.error}")
        if r.saturation_note:
            print(f"  {r.label}: saturation {r.saturation_note}")
        for t in r.turns:
            line = (f"  {r.label}: hand.raise/lower at {t['rate']:.0f}/s: ack p50 {ms(t['ack_ms']['p50'])}, "
                    f"p99 {ms(t['ack_ms']['p99'])} ms; {t['room_events']} room events in {t['window_s']:.1f}s; "
                    f"server CPU {t['server_cpu_frac']:.0%}")
            ss = t.get("server_side")
            if ss:
                line += (f"; server-side command time: {n((ss['within_2ms'] or 0) * 100, 1)}% within 2 ms, "
                         f"p99 in the <= {n(ss['p99_bucket_ms'], 1)} ms bucket")
            print(line)
    print("dlv = deliveries (one room.event to one client); CPU-s = the server process's user+system CPU seconds;"
          " p50/p99 = send->receive per delivery at half of saturation; turns = hand.raise/lower ack round trip at "
          f"{plan.turns_rates[-1]:.0f}/s. The generator shares the 2-core box; other work on it moves these numbers.")
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in results], indent=1))
    return 0 if all(r.error is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

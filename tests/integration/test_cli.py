"""The `circles` command as an operator meets it: real processes, real signals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp
import jwt

from tests.support import SECRET, Client

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLES_")}
    e.update(extra)
    return e


async def run(*args: str, environ: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "server", *args, cwd=ROOT, env=environ,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def wait_healthy(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(url + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("server did not become healthy")


async def test_token_prints_one_valid_token_and_nothing_else() -> None:
    code, out, err = await run("token", "--room", "tuesday", "--role", "member", "--name", "Ana", "--sub", "a-1",
                               "--ttl", "60", environ=env(CIRCLES_SECRET=SECRET))
    assert code == 0 and err == ""
    assert out.count("\n") == 1
    claims = jwt.decode(out.strip(), SECRET, algorithms=["HS256"])
    assert claims["sub"] == "a-1" and claims["room"] == "tuesday" and claims["role"] == "member"
    assert claims["exp"] - claims["iat"] == 60


async def test_token_refuses_bad_input_with_a_message() -> None:
    code, out, err = await run("token", "--room", "Bad Room", "--role", "member", "--name", "Ana",
                               environ=env(CIRCLES_SECRET=SECRET))
    assert code == 2 and out == "" and "room" in err
    code, out, err = await run("token", "--room", "r", "--role", "member", "--name", "Ana", environ=env())
    assert code == 2 and "CIRCLES_SECRET" in err


async def test_serve_without_secret_says_what_to_do() -> None:
    code, _, err = await run("serve", "--port", str(free_port()), environ=env())
    assert code == 2
    assert "CIRCLES_SECRET is not set" in err and "--demo" in err and "Traceback" not in err


async def test_serve_with_bad_config_names_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "circles.toml"
    cfg.write_text('[[rooms]]\nid = "oncall"\nkind = "hospital"\n')
    code, _, err = await run("serve", "--config", str(cfg), environ=env(CIRCLES_SECRET=SECRET))
    assert code == 2 and "rooms[0]" in err and "kind" in err and "Traceback" not in err


async def test_demo_serves_prints_links_and_shuts_down_cleanly_on_sigterm() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "serve", "--demo", "--port", str(port), cwd=ROOT, env=env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_healthy(url)
        assert proc.stdout is not None
        lines = []
        while not any("staff console" in line for line in lines):
            lines.append((await asyncio.wait_for(proc.stdout.readline(), 10)).decode())
        member_link = next(line for line in lines if line.strip().startswith("member") and "room=demo" in line)
        tok = member_link.split("token=")[1].strip()
        fac_link = next(line for line in lines if line.strip().startswith("facilitator"))
        fac = Client(url, fac_link.split("token=")[1].strip())
        member = Client(url, tok)
        await fac.connect()
        await member.connect()
        assert (await fac.call("join", {"room": "demo"}))["ok"]
        assert (await member.call("join", {"room": "demo"}))["ok"]
        assert (await member.call("chat.send", {"room": "demo", "text": "a private thought, Ana here"}))["ok"]
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/") as r:
                assert r.status == 200
            # The staff console, with the admin key the demo made.
            console = next(line for line in lines if "staff console" in line)
            admin_key = console.split("admin key: ")[1].strip(" )\n")
            async with http.get(url + "/api/rooms", headers={"Authorization": f"Bearer {admin_key}"}) as r:
                assert r.status == 200 and {room["id"] for room in await r.json()} >= {"demo", "oncall"}
        await member.close()
        await fac.close()
        goodbye = Client(url, fac_link.split("token=")[1].strip())
        await goodbye.connect()
        assert (await goodbye.call("join", {"room": "demo"}))["ok"]
    finally:
        stopping = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 15)
    # A connected client does not hold the shutdown up: it is told goodbye and the
    # process is gone well within the shutdown timeout.
    assert time.monotonic() - stopping < 3.0
    await goodbye.wait_for(lambda: not goodbye.sio.connected)
    assert proc.returncode == 0
    log = err.decode()
    assert "private thought" not in log and "Ana" not in log and tok not in log
    for line in log.strip().splitlines():
        json.loads(line)  # every log line is JSON

"""Audio through a TURN relay (issue 16): a member whose network lets nothing through but
the relay (the relay transport policy: no host candidate at all) is still heard. The relay
is Debian's coturn, started here on 127.0.0.1 with a TURN REST secret shared with
Circles' credential minting (``server/media/turn.py``); everything stays on loopback.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.config import MediaConfig
from server.media import turn
from tests.integration.conftest import MakeServer
from tests.media.peers import AudioPeer, ToneTrack
from tests.media.test_audio import until_heard
from tests.support import Client, require_tool, token

ROOM = "relayed"
SECRET = "turn-rest-secret-for-the-tests-only"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def coturn() -> Iterator[int]:
    binary = require_tool("turnserver", "coturn")
    port = _free_port()
    relay_low = 50_000 + port % 10_000
    with tempfile.TemporaryDirectory(prefix="circles-coturn-") as tmp:
        proc = subprocess.Popen(
            [binary, "-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1", "--listening-port", str(port),
             "--min-port", str(relay_low), "--max-port", str(relay_low + 200), "--allow-loopback-peers",
             "--use-auth-secret", "--static-auth-secret", SECRET, "--realm", "circles.test",
             "--no-tls", "--no-dtls", "--no-cli", "--no-multicast-peers", "--no-software-attribute",
             "--userdb", str(Path(tmp) / "turndb"), "--pidfile", str(Path(tmp) / "turn.pid"),
             "--log-file", "stdout", "--simple-log"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            for _ in range(100):  # it listens on TCP as well as UDP: wait for that
                assert proc.poll() is None, proc.stdout.read().decode()[-2000:] if proc.stdout else ""
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.05)
            yield port
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_a_member_reachable_only_through_turn_is_heard(make_server: MakeServer, coturn: int,
                                                               transport: str) -> None:
    server = await make_server(media=MediaConfig(host_candidates=("127.0.0.1",), turn_secret=SECRET,
                                                 turn_urls=(f"turn:127.0.0.1:{coturn}?transport={transport}",)))
    fac = Client(server.url, token(ROOM, "facilitator", name="Fac"), name="Fac")
    server.clients.append(fac)
    await fac.connect()
    # The join gives the browser its TURN credential; the test's peer uses it, and only it.
    relay = (await fac.join(ROOM))["ice_servers"]
    username, _, label = relay[0]["username"].partition(":")
    assert int(username) > time.time() + 3600 and len(label) == 12  # expires; a random label, no name
    listener = await server.client(ROOM, "member", "Cai")
    speaker = AudioPeer(ToneTrack(440), relay=relay)  # the facilitator: staff are always heard
    ear = AudioPeer()
    try:
        assert (await speaker.connect(fac.call, ROOM))["ok"]
        assert (await ear.connect(listener.call, ROOM))["ok"]
        await until_heard(ear.recorder, 440, timeout=15)
        # It went through the relay: the speaker offered nothing else.
        offered = [line for line in speaker.offer_sdp.splitlines() if line.startswith("a=candidate")]
        assert offered and all(" typ relay" in line for line in offered), offered
    finally:
        await speaker.close()
        await ear.close()


async def test_a_wrong_turn_secret_gets_no_relay(coturn: int) -> None:
    relay = turn.ice_servers([f"turn:127.0.0.1:{coturn}?transport=udp"], "not-the-secret", ttl_s=600)
    peer = AudioPeer(relay=relay)
    try:
        sdp = await asyncio.wait_for(peer.make_offer(), 20)
        assert "typ relay" not in sdp  # the allocation was refused: nothing to offer
    finally:
        await peer.close()


async def test_no_turn_configured_means_no_ice_servers_in_the_join(make_server: MakeServer) -> None:
    server = await make_server()
    fac = await server.client(ROOM, "facilitator", "Fac", join=False)
    assert "ice_servers" not in await fac.join(ROOM)

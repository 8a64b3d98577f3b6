"""Media tests: the real app (as in tests/integration) with its media hub on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from server.config import MediaConfig
from server.media.hub import MediaHub
from tests.integration.conftest import MakeServer, Running, make_server  # noqa: F401 (fixture)
from tests.media.peers import AudioPeer, ToneTrack
from tests.support import Client

MakePeer = Callable[..., Awaitable[AudioPeer]]


@pytest.fixture
async def media_server(make_server: MakeServer) -> Running:  # noqa: F811
    return await make_server(media=MediaConfig(host_candidates=("127.0.0.1",)))


def hub_of(server: Running) -> MediaHub:
    from server.gateway import keys
    from server.media.router import MediaRouter
    media = server.app[keys.DELIVERY].media
    if isinstance(media, MediaRouter):  # the Redis store: the room's media is on this one worker
        media = media.hub
    assert isinstance(media, MediaHub)
    return media


@pytest.fixture
async def audio() -> AsyncIterator[MakePeer]:
    """Start a participant's audio: ``await audio(client, room, freq=440)``."""
    peers: list[AudioPeer] = []

    async def start(client: Client, room: str, freq: float | None = None) -> AudioPeer:
        peer = AudioPeer(ToneTrack(freq) if freq else None)
        peers.append(peer)
        ack = await peer.connect(client.call, room)
        assert ack["ok"], ack
        return peer

    yield start
    for p in peers:
        await p.close()

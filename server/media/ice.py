"""ICE as the operator configured it (contract §1.1 ``[media]``).

``host_candidates``: the only addresses the server offers. aioice gathers one host
candidate per address of every interface and always leaves out 127.0.0.1, so neither
"only these" nor "loopback" can be had from it by options. ``offer_only`` replaces the
gathering step of one connection (per instance, nothing global is patched) with one
that binds exactly the configured addresses. With no list configured, aioice's own
gathering (the machine's interfaces) is kept.

``ice_servers``: STUN/TURN servers handed to aiortc. An empty list must stay empty:
aiortc falls back to a public Google STUN server when given ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aioice import Connection
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCRtpTransceiver


def configuration(ice_servers: Sequence[Mapping[str, Any]]) -> RTCConfiguration:
    servers = []
    for entry in ice_servers:
        urls = entry.get("urls")
        if not (isinstance(urls, str) or (isinstance(urls, list) and all(isinstance(u, str) for u in urls))):
            raise ValueError("each [media] ice_servers entry needs urls: a string or a list of strings")
        servers.append(RTCIceServer(urls=urls, username=entry.get("username"), credential=entry.get("credential")))
    return RTCConfiguration(iceServers=servers)


def _connection(transceiver: RTCRtpTransceiver) -> Connection:
    conn = transceiver.receiver.transport.transport.iceGatherer._connection
    assert isinstance(conn, Connection)
    return conn


def offer_only(pc: RTCPeerConnection, addresses: Sequence[str]) -> None:
    """Make ``pc`` gather host candidates on ``addresses`` and nothing else.

    Call after the transceivers exist and before ``setLocalDescription`` (which is
    when aiortc gathers).
    """
    hosts = list(addresses)
    for transceiver in pc.getTransceivers():
        conn = _connection(transceiver)

        async def gather(conn: Connection = conn) -> None:
            # Mirrors aioice's Connection.gather_candidates with our address list.
            if conn._local_candidates_start:
                return
            conn._local_candidates_start = True
            for component in sorted(conn._components):
                conn._local_candidates += await conn.get_component_candidates(component=component, addresses=hosts)
            conn._local_candidates_end = True

        setattr(conn, "gather_candidates", gather)  # noqa: B010 (per instance, on purpose)


def candidate_addresses(sdp: str) -> set[str]:
    """The connection addresses of every ``a=candidate`` line of an SDP."""
    out = set()
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            parts = line.split()
            if len(parts) > 4:
                out.add(parts[4])
    return out

"""``rediss://``: two workers on a redis-server that speaks TLS only to them (its own,
on 127.0.0.1, with a certificate made here), and a worker that does not trust that
certificate getting a clear ``unavailable`` rather than talking in the clear.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from server.app import create_app
from server.config import Config
from tests.redis_server import RedisServer, free_port
from tests.support import SECRET, Client, token

ROOM = "tls-circle"


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, signed by its own key (the CA a client must trust)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, Path]]:
    certs = tmp_path_factory.mktemp("tls")
    cert, key = self_signed(certs, "redis")
    stranger, _ = self_signed(certs, "stranger")
    port = free_port()
    server = RedisServer(args=("--tls-port", str(port), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
                               "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no")).start()
    try:
        yield port, cert, stranger
    finally:
        server.close()


async def test_two_workers_share_rooms_over_tls(aiohttp_server: Any, tls_redis: tuple[int, Path, Path]) -> None:
    port, cert, _ = tls_redis
    url = f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={cert}"
    urls = []
    for _ in range(2):
        srv = await aiohttp_server(create_app(Config(secret=SECRET, redis_url=url)), host="127.0.0.1")
        urls.append(f"http://127.0.0.1:{srv.port}")
    fac = Client(urls[0], token(ROOM, "facilitator", name="Fay"))
    ana = Client(urls[1], token(ROOM, "member", name="Ana"))
    try:
        await fac.connect()
        await fac.join(ROOM)
        await ana.connect()
        await ana.join(ROOM)
        # Committed on worker 1 through TLS, published on the bus, delivered by worker 0.
        assert (await ana.call("chat.send", {"room": ROOM, "text": "over tls", "client_id": "t1"}))["ok"]
        got = await fac.wait_event("chat.message")
        assert got["data"]["text"] == "over tls"
    finally:
        await fac.close()
        await ana.close()


async def test_a_worker_that_does_not_trust_the_certificate_says_unavailable(
        aiohttp_server: Any, tls_redis: tuple[int, Path, Path]) -> None:
    port, _, stranger = tls_redis
    url = f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={stranger}"
    srv = await aiohttp_server(create_app(Config(secret=SECRET, redis_url=url)), host="127.0.0.1")
    fac = Client(f"http://127.0.0.1:{srv.port}", token(ROOM, "facilitator", name="Fay"))
    try:
        await fac.connect()
        ack = await fac.call("join", {"room": ROOM})
        assert ack == {"ok": False, "error": {"code": "unavailable", "message": ack["error"]["message"]}}
    finally:
        await fac.close()

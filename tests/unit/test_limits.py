"""Per-person and per-address limits (issue 12, item 5), with a clock the test drives."""

from __future__ import annotations

from types import SimpleNamespace

from server.gateway.limits import Guard, Limits, client_address, trusted_networks


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_person_shares_one_bucket_across_connections_and_it_refills() -> None:
    clock = Clock()
    g = Guard(Limits(person_burst=5, person_per_s=1.0), now=clock)
    assert g.open("ana", "10.0.0.1") is None and g.open("ana", "10.0.0.1") is None
    a, b = g.connection_bucket(), g.connection_bucket()
    took = [g.take(a if i % 2 else b, "ana", "10.0.0.1") for i in range(8)]
    assert took == [True] * 5 + [False] * 3
    assert g.take(a, "ben", "10.0.0.1")  # another person on the same address is fine
    clock.t += 2.0
    assert [g.take(a, "ana", "10.0.0.1") for _ in range(3)] == [True, True, False]


def test_closing_and_reopening_does_not_hand_out_a_fresh_bucket() -> None:
    clock = Clock()
    g = Guard(Limits(person_burst=3, person_per_s=0.1), now=clock)
    for _ in range(3):
        g.open("ana", "a")
        assert g.take(g.connection_bucket(), "ana", "a")
        g.close("ana", "a")
    g.open("ana", "a")
    assert not g.take(g.connection_bucket(), "ana", "a")
    # Once the bucket would be full again, an idle holder is forgotten (memory stays bounded).
    g.close("ana", "a")
    clock.t += 100
    g.sweep()
    assert "ana" not in g.people and "a" not in g.addresses


def test_connection_counts_per_person_and_per_address() -> None:
    g = Guard(Limits(person_conns=2, address_conns=3))
    assert g.open("ana", "x") is None and g.open("ana", "x") is None
    assert g.open("ana", "x") == "too many connections for one person"
    assert g.open("ben", "x") is None
    assert g.open("cid", "x") == "too many connections from one address"
    g.close("ana", "x")
    assert g.open("cid", "x") is None


def request(remote: str, forwarded: str = "") -> SimpleNamespace:
    return SimpleNamespace(remote=remote, headers={"X-Forwarded-For": forwarded} if forwarded else {})


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    trusted = trusted_networks(["127.0.0.1", "10.0.0.0/8"])
    assert client_address(request("203.0.113.9", "1.2.3.4"), trusted) == "203.0.113.9"
    assert client_address(request("127.0.0.1", "198.51.100.7"), trusted) == "198.51.100.7"
    # A client that writes its own X-Forwarded-For cannot choose its address: only the
    # hop our proxy appended counts.
    assert client_address(request("127.0.0.1", "6.6.6.6, 198.51.100.7"), trusted) == "198.51.100.7"
    assert client_address(request("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.2.3"), trusted) == "198.51.100.7"
    assert client_address(request("127.0.0.1", "not-an-address"), trusted) == "127.0.0.1"
    assert client_address(request("127.0.0.1", "198.51.100.7"), ()) == "127.0.0.1"
    assert client_address(None, trusted) == "unknown"

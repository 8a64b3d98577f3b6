"""Issue 12, items 11-12 and the limits as settings: /metrics costs nothing per scrape, says
when moderation runs slow, and the limits, proxies and keys come from the configuration
with clear errors."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from moderation.pipeline import Pipeline, build_pipeline
from moderation.verdict import MessageContext
from server.config import ConfigError, load_config
from server.gateway.limits import Limits
from server.metrics import STATE_REFRESH_S, Metrics

SECRET = "s" * 40


async def test_store_wide_gauges_are_read_once_per_interval_however_often_metrics_is_asked() -> None:
    now = [1000.0]
    reads = []
    m = Metrics(now=lambda: now[0])

    async def read() -> tuple[int, int]:
        reads.append(now[0])
        await asyncio.sleep(0)  # a store round trip
        return 7, 2

    m.track_state(read)
    await asyncio.gather(*(m.refresh_state() for _ in range(100)))  # a burst of scrapes
    assert len(reads) == 1
    assert m.registry.get_sample_value("circles_rooms") == 7
    assert m.registry.get_sample_value("circles_oncall_waiting") == 2
    now[0] += STATE_REFRESH_S - 1
    await m.refresh_state()
    assert len(reads) == 1
    now[0] += 2
    await m.refresh_state()
    assert len(reads) == 2


async def test_a_store_that_is_away_keeps_the_last_values_and_is_not_hammered() -> None:
    now = [0.0]
    calls = itertools.count()
    m = Metrics(now=lambda: now[0])

    async def read() -> tuple[int, int]:
        if next(calls) > 0:
            raise ConnectionError("store away")
        return 3, 1

    m.track_state(read)
    await m.refresh_state()
    now[0] += STATE_REFRESH_S
    for _ in range(10):
        await m.refresh_state()
    assert next(calls) == 2  # one failed read, not ten
    assert m.registry.get_sample_value("circles_rooms") == 3


async def test_moderation_judgements_past_their_budget_are_counted_by_hook() -> None:
    ticks = itertools.count(step=0.01)  # every judgement "takes" 10 ms
    pipeline = Pipeline(build_pipeline(None).hooks, timer=lambda: next(ticks))
    m = Metrics()
    m.watch_pipelines([pipeline, build_pipeline(None)])
    await pipeline.run(MessageContext("r", "circle", "ana", "member", "hello there", 0))
    counted = {s.labels["hook"]: s.value for f in m.registry.collect() for s in f.samples
               if s.name == "circles_moderation_over_budget_total"}
    assert counted and counted == dict(pipeline.over_budget)


def config_file(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return {"config": str(path)}


def test_limits_come_from_the_config_file(tmp_path: Path) -> None:
    cli = config_file(tmp_path, "[limits]\nperson_conns = 3\naddress_per_s = 2500.5\nmax_rooms = 50\n"
                                "send_buffer_bytes = 1048576\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n")
    c = load_config(cli, {"CIRCLES_SECRET": SECRET})
    assert c.limits == Limits(person_conns=3, address_per_s=2500.5, max_rooms=50, send_buffer_bytes=1048576)
    assert c.trusted_proxies == ("10.0.0.0/8", "::1")
    assert load_config({}, {"CIRCLES_SECRET": SECRET}).limits == Limits()


@pytest.mark.parametrize(("text", "says"), [
    ("[limits]\nperson_con = 3\n", "unknown key(s) person_con"),
    ("[limits]\nperson_conns = 0\n", "person_conns must be from 1"),
    ("[limits]\nperson_conns = 2.5\n", "person_conns: Input should be a valid integer"),
    ("[limits]\nconn_per_s = \"fast\"\n", "conn_per_s: Input should be a valid number"),
    ("[limits]\nsend_buffer_bytes = 10\n", "send_buffer_bytes must be from 65536"),
    ("[limits]\ntrusted_proxies = [\"the-proxy\"]\n", "trusted_proxies"),
    ("[limits]\ntrusted_proxies = \"10.0.0.1\"\n", "trusted_proxies: Input should be a valid list"),
])
def test_a_bad_limit_stops_the_server_with_a_clear_message(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=None) as e:
        load_config(config_file(tmp_path, text), {"CIRCLES_SECRET": SECRET})
    assert says in str(e.value)


@pytest.mark.parametrize("name", ["CIRCLES_ADMIN_KEY", "CIRCLES_METRICS_KEY"])
def test_bearer_keys_must_be_long(name: str) -> None:
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_config({}, {"CIRCLES_SECRET": SECRET, name: "short-key"})
    c = load_config({}, {"CIRCLES_SECRET": SECRET, name: "k" * 32})
    assert (c.admin_key if name == "CIRCLES_ADMIN_KEY" else c.metrics_key) == "k" * 32

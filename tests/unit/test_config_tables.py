"""The config file's tables are pydantic models: a wrong type, a bad value or a misspelt
key stops the start with a message naming the table and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import Config, ConfigError, load_config
from tests.support import SECRET


def load(tmp_path: Path, text: str) -> Config:
    cfg = tmp_path / "circles.toml"
    cfg.write_text(text)
    return load_config({"config": str(cfg)}, {"CIRCLES_SECRET": SECRET})


@pytest.mark.parametrize(("text", "says"), [
    ('[[rooms]]\nid = "Bad"\n', "rooms[0].id: room id must match ^[a-z0-9][a-z0-9-]{0,63}$"),
    ('[[rooms]]\nid = "a"\n[[rooms]]\nid = "a"\n', "rooms[1]: room a is defined twice"),
    ('[[rooms]]\nid = "a"\nkind = "x"\n', "rooms[0].kind: Input should be 'circle' or 'oncall'"),
    ('[[rooms]]\nid = "a"\nsettings = {share_seconds = 1}\n', "rooms[0].settings: share_seconds must be an integer"),
    ('[[rooms]]\nid = "a"\ncolour = 1\n', "rooms[0]: unknown key(s) colour"),
    ('[[rooms]]\nid = "a"\nmoderation = 3\n', "rooms[0].moderation: expected a table"),
    ("colour = 1\n", "config file: unknown key(s) colour"),
    ("[server]\nprot = 8080\n", "[server]: unknown key(s) prot"),
    ('[server]\nport = "8080"\n', "[server] port: Input should be a valid integer"),
    ('[oncall]\nwebhook_url = "ftp://x"\n', "[oncall] webhook_url: must be an http(s) URL"),
    ('[oncall]\nwebhook_url = "http://x"\n', "webhook_secret is required with webhook_url"),
    ("[oncall]\nhelplines = []\n", "[oncall] helplines"),
    ('[[oncall.helplines]]\nname = "x"\n', "[oncall] helplines[0].phone: Field required"),
    ("[audit]\nretention_days = 0\n", "[audit] retention_days"),
    ("[audit]\nretention = 7\n", "[audit]: unknown key(s) retention"),
    ('[moderation]\nlinks = {mode = "x"}\n', "[moderation.links] mode"),
    ("[attendance]\nretention_days = 0\n", "[attendance] retention_days"),
    ('[attendance]\nrooms = ["Bad Room"]\n', "[attendance] rooms[0]"),
    ('[attendance]\ntz = "India/Delhi"\n', "[attendance] tz"),
    ('[attendance]\nwebhook_url = "http://x"\n', "webhook_secret is required with webhook_url"),
])
def test_a_bad_table_names_itself_and_the_key(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigError) as e:
        load(tmp_path, text)
    assert says in str(e.value)


def test_good_tables_are_taken(tmp_path: Path) -> None:
    c = load(tmp_path, '[server]\nport = 9000\nallowed_origins = ["https://a.org"]\n'
                       '[[rooms]]\nid = "oncall"\nkind = "oncall"\n[rooms.settings]\nescalate_after_seconds = 90\n'
                       '[oncall]\nwebhook_url = "https://pager.example.org/x"\nwebhook_secret = "s"\n'
                       '[[oncall.helplines]]\nname = "Tele-MANAS"\nphone = 14416\n'
                       '[audit]\nretention_days = 7\n')
    assert c.port == 9000 and c.allowed_origins == ("https://a.org",)
    assert c.rooms[0].kind == "oncall"
    assert c.rooms[0].settings == {"escalate_after_seconds": 90}
    assert c.oncall.helplines[0].phone == "14416"
    assert c.audit_retention_days == 7


def test_turn_for_browsers_comes_from_the_environment_and_the_file() -> None:
    from server.config import ConfigError, load_config

    base = {"CIRCLES_SECRET": "s" * 40}
    urls = "turn:t.example.org:3478?transport=udp, turns:t.example.org:5349"
    config = load_config({}, env={**base, "CIRCLES_TURN_SECRET": "t" * 32, "CIRCLES_TURN_URLS": urls})
    assert config.media.turn_urls == ("turn:t.example.org:3478?transport=udp", "turns:t.example.org:5349")
    assert config.media.turn_secret == "t" * 32
    for env, says in (({"CIRCLES_TURN_URLS": "turn:x:3478"}, "CIRCLES_TURN_SECRET is not"),
                      ({"CIRCLES_TURN_URLS": "stun:x:3478", "CIRCLES_TURN_SECRET": "t" * 32}, "turn: or turns:"),
                      ({"CIRCLES_TURN_SECRET": "short"}, "at least 32")):
        with pytest.raises(ConfigError, match=says):
            load_config({}, env={**base, **env})


def test_replica_acks_default_file_environment_and_bounds(tmp_path: Path) -> None:
    assert load(tmp_path, "").redis_replica_acks == 1
    assert load(tmp_path, "[server]\nredis_replica_acks = 0\n").redis_replica_acks == 0
    cfg = tmp_path / "circles.toml"
    cfg.write_text("[server]\nredis_replica_acks = 0\n")
    env = {"CIRCLES_SECRET": SECRET, "CIRCLES_REDIS_REPLICA_ACKS": "2"}
    assert load_config({"config": str(cfg)}, env).redis_replica_acks == 2  # the environment wins
    with pytest.raises(ConfigError, match="redis_replica_acks must be from 0 to 5"):
        load(tmp_path, "[server]\nredis_replica_acks = 9\n")


def test_attendance_is_off_unless_turned_on_for_chosen_circles(tmp_path: Path) -> None:
    assert not load(tmp_path, "").attendance.on("tuesday")
    c = load(tmp_path, '[attendance]\nenabled = true\nrooms = ["tuesday"]\nretention_days = 30\nmissed_after = 2\n'
                       'webhook_url = "https://centre.example.org/missed"\nwebhook_secret = "s"\n')
    assert c.attendance.on("tuesday") and not c.attendance.on("friday")
    assert (c.attendance.retention_days, c.attendance.missed_after) == (30, 2)
    assert c.attendance.webhook_url == "https://centre.example.org/missed"
    off = load(tmp_path, '[attendance]\nrooms = ["tuesday"]\n')
    assert not off.attendance.on("tuesday"), "listed but not enabled"

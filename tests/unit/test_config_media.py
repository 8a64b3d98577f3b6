"""``[media]`` in the config file: bad entries stop the start with a message naming them."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import ConfigError, load_config
from tests.support import SECRET


def load(tmp_path: Path, media: str) -> object:
    cfg = tmp_path / "circles.toml"
    cfg.write_text("[media]\n" + media)
    return load_config({"config": str(cfg)}, {"CIRCLES_SECRET": SECRET}).media


def test_good_media_settings_are_taken(tmp_path: Path) -> None:
    media = load(tmp_path, 'host_candidates = ["127.0.0.1"]\nopus_bitrate = 24000\n'
                           'ice_servers = [{urls = "stun:stun.example.org:3478"},\n'
                           '  {urls = ["turn:turn.example.org"], username = "u", credential = "c"}]\n')
    assert media.host_candidates == ("127.0.0.1",)  # type: ignore[attr-defined]
    assert media.opus_bitrate == 24000  # type: ignore[attr-defined]
    assert len(media.ice_servers) == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(("media", "names"), [
    ('ice_servers = [{url = "stun:x"}]', "ice_servers[0]"),
    ('ice_servers = [{urls = []}]', "ice_servers[0]"),
    ('ice_servers = [{urls = "http://x"}]', "stun:"),
    ('ice_servers = [{urls = "turn:x", username = 7}]', "username"),
    ('ice_servers = ["stun:x"]', "ice_servers[0]"),
    ('host_candidates = "127.0.0.1"', "host_candidates"),
    ("opus_bitrate = 1", "opus_bitrate"),
])
def test_bad_media_settings_name_the_key(tmp_path: Path, media: str, names: str) -> None:
    with pytest.raises(ConfigError, match=names.replace("[", r"\[").replace("]", r"\]")):
        load(tmp_path, media + "\n")

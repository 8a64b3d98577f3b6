"""The deployment kit in deploy/ (issue 16) is valid as shipped: the compose file passes
docker-compose's own check with the example environment (no daemon needed), every value
it requires is in .env.example, and Circles reads the kit's configuration file."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from server.config import load_config
from tests.support import require_tool

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _example_env() -> dict[str, str]:
    out = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key] = value
    return out


def test_the_compose_file_passes_docker_composes_check() -> None:
    compose = require_tool("docker-compose", "docker-compose")
    done = subprocess.run([compose, "--env-file", ".env.example", "-f", "compose.yaml", "config", "--services"],
                          cwd=DEPLOY, capture_output=True, text=True, env={"PATH": os.environ.get("PATH", "")})
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) == {"redis", "circles", "caddy", "coturn"}


def test_every_value_the_compose_file_uses_is_in_the_example_env() -> None:
    used = set(re.findall(r"\$\{([A-Z_]+)", (DEPLOY / "compose.yaml").read_text()))
    assert used <= set(_example_env()), sorted(used - set(_example_env()))


def test_circles_reads_the_kits_configuration() -> None:
    config = load_config({"config": str(DEPLOY / "circles.toml")}, env={"CIRCLES_SECRET": "s" * 40})
    assert [r.kind for r in config.rooms] == ["oncall"]
    assert config.oncall.helplines and config.trusted_proxies == ("127.0.0.1/32",)

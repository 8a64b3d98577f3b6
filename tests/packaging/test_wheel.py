"""Installed the way the image installs it (a wheel, not the source tree), Circles serves
its web client and starts (issue 16): the wheel is built, installed into a fresh virtual
environment outside the source tree, and ``circles serve`` run from a directory that has
nothing of the project in it.

The new environment gets the dependencies from the test's own environment through a
path entry (its site-packages as a plain ``sys.path`` line, so the editable install's
finder there is not loaded): only Circles itself comes from the wheel.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEFT_BEHIND = (".git", ".venv", "build", "dist", "*.egg-info", "artifacts", "__pycache__", ".mypy_cache",
               ".ruff_cache", ".pytest_cache", ".hypothesis")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as r:
        return r.status, r.read().decode()


def test_every_python_package_is_in_the_wheel_list() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for top in ("server", "moderation")
             for p in (ROOT / top).rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_the_installed_wheel_serves_the_web_client() -> None:
    with tempfile.TemporaryDirectory(prefix="circles-wheel-") as tmp:
        work = Path(tmp)
        # From a copy of the source without what builds and installs leave behind: an
        # editable install's *.egg-info/SOURCES.txt would add files pyproject does not ship
        # (a template missing from package-data would pass here and fail in the image).
        source = work / "source"
        shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*LEFT_BEHIND))
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work / "dist"),
                        str(source)], check=True, capture_output=True)
        wheel = next((work / "dist").glob("circles-*.whl"))
        venv = work / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        py = venv / "bin" / "python"
        site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                   check=True, capture_output=True, text=True).stdout.strip())
        (site / "circles-test-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                       check=True, capture_output=True)
        elsewhere = work / "run"
        elsewhere.mkdir()
        where = subprocess.run([str(py), "-c", "import server, circles_web; print(server.__file__)"],
                               cwd=elsewhere, check=True, capture_output=True, text=True).stdout
        assert where.startswith(str(site)), where  # Circles from the wheel, not the checkout
        port = _free_port()
        admin_key = "wheel-test-admin-key-" + "y" * 32
        env = {"PATH": os.environ.get("PATH", ""), "CIRCLES_SECRET": "wheel-test-secret-" + "x" * 32,
               "CIRCLES_ADMIN_KEY": admin_key}
        proc = subprocess.Popen([str(py), "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=elsewhere, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if _get(base + "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "circles serve did not answer /healthz within 30 s"
                time.sleep(0.1)
            status, page = _get(base + "/")
            assert status == 200 and re.search(r"<script[^>]+app\.js", page), page[:300]
            assert "not installed" not in page
            status, script = _get(base + "/web/app.js")
            assert status == 200 and "import" in script
            status, script = _get(base + "/web/agenda.js")
            assert status == 200 and "renderAgenda" in script
            # The shipped meeting-format templates are package data (server/formats/*.toml).
            status, listed = _get(base + "/api/formats", {"Authorization": f"Bearer {admin_key}"})
            assert status == 200 and sorted(f["id"] for f in json.loads(listed)) == ["smart", "twelve-step"]
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)

"""A connection storm (bench/storm.py), CI-sized: 1,000 raw websockets to a real ``circles
serve`` process, from two generator processes, open, then all join 20 rooms of 50 at
once, then all leave at once. Every join is acked ok, the server stays up with a clean
log, and afterwards nothing of them is left on the server: its connections gauge is 0
and every room's participant list is empty (admin API).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_a_thousand_connections_join_at_once_and_leave_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "storm.json"
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "storm.py"), "--conns", "1000", "--rooms", "20",
                          "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.exists(), run.stdout[-2000:] + run.stderr[-2000:]
    res = json.loads(out.read_text())
    report = run.stdout[-3000:]
    assert res["connected"] == 1000 and res["joined"] == 1000 and res["join_failed"] == 0, report
    assert res["participants_at_peak"] == 1000, report
    assert res["left"] == 1000 and res["leave_failed"] == 0, report
    assert res["connections_after"] == 0 and res["participants_after"] == 0, report
    assert res["alive"] and res["healthz"] and res["log_problems"] == [], report
    assert run.returncode == 0, report

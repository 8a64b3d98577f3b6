"""The chaos soak (issue 18) as CI runs it: two minutes on each store (one Redis; a
Sentinel group), three workers, 30 rooms, every fault kind of the store at least once,
from a fixed seed. Zero invariant violations, or it fails with
the list. The long run and its figures are in the README (``bench/soak.py --minutes 30``).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench.soak import FAULTS, parse, print_table, soak


@pytest.mark.parametrize("store", ["redis", "sentinel"])
async def test_two_minutes_of_faults_lose_nothing(store: str, tmp_path: Path) -> None:
    args = parse(["--minutes", "2", "--seed", "18", "--store", store, "--rooms", "30", "--members", "4",
                  "--logs", str(tmp_path / "logs")])
    report = await soak(args)
    print_table(report)
    assert report["violations"] == []
    assert set(report["faults"]) == set(FAULTS[store]), report["faults"]
    # Every fault was got over: everyone in a room had an answer again.
    for kind, f in report["faults"].items():
        assert not math.isnan(f["resume_p95_s"]), kind
    assert report["chats_acked"] > 500 and report["oncall_visits"] >= 3
    assert report["escalations_paged"] >= report["oncall_visits"] - 1  # the last may still wait

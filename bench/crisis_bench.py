"""Time per message of crisis detection, on one core, against peers in the same run.

    .venv/bin/python bench/crisis_bench.py [--rounds 5]

Every message of the corpus (``moderation/data/crisis_corpus`` and the rules' set) goes
through, one at a time as chat arrives, and each call is timed:

- **the hook** as the server runs it (``CrisisHook.judge``: the normaliser, the phrase
  rules, the model in plain Python, the conversation's running score), on a fresh
  ``MessageContext`` per message, so the shared normalised view is worked out as well;
- the phrase rules alone (``moderation.crisis.detect``);
- the model alone, scored in plain Python (``CrisisModel.judge``);
- the peer: the same model scored by scikit-learn one message at a time (vectorise, then
  ``decision_function``), what a straightforward integration would do.

Targets (issue 13): p50 <= 200 us and p99 <= 2 ms per message for the hook.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from moderation.crisis import detect
from moderation.crisis_model import features_text, load_corpus, load_model, train
from moderation.evasion import unmask
from moderation.hooks.crisis import CrisisHook
from moderation.verdict import MessageContext


def timed(fn: Callable[[str], object], texts: Sequence[str], rounds: int) -> list[float]:
    out: list[float] = []
    for _ in range(rounds):
        unmask.cache_clear()  # every message is new to the detector, as chat is
        for t in texts:
            start = time.perf_counter_ns()
            fn(t)
            out.append((time.perf_counter_ns() - start) / 1000)
    return out


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    rows = load_corpus()
    texts = [r.text for r in rows]
    hook = CrisisHook()
    model = load_model()
    sk = train(rows, calibrate=False)
    clock = [0]

    def through_hook(text: str) -> object:
        clock[0] += 1000
        return hook.judge(MessageContext("bench", "circle", f"p{clock[0] % 40}", "member", text, clock[0]))

    def peer(text: str) -> object:
        return sk.decision([features_text(text)])

    contenders: list[tuple[str, Callable[[str], object]]] = [
        ("hook (normalise + rules + model + context)", through_hook),
        ("phrase rules alone", detect),
        ("model alone, plain Python", model.judge),
        ("peer: the same model via scikit-learn", peer),
    ]
    gc.collect()
    gc.freeze()
    lengths = [len(t) for t in texts]
    print(f"{len(texts)} messages (median {statistics.median(lengths):.0f} characters, "
          f"longest {max(lengths)}), {args.rounds} rounds, one core")
    print(f"{'':<46}{'p50 us':>9}{'p90 us':>9}{'p99 us':>9}{'max us':>10}")
    for name, fn in contenders:
        timed(fn, texts[:200], 1)  # warm caches
        xs = timed(fn, texts, args.rounds if "peer" not in name else 1)
        print(f"{name:<46}{pct(xs, 50):>9.0f}{pct(xs, 90):>9.0f}{pct(xs, 99):>9.0f}{max(xs):>10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

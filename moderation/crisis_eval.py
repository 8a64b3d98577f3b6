"""Precision and recall of the crisis-language detector on the labelled data set.

``python -m moderation.crisis_eval`` prints the figures overall, per split and per
language. Splits: ``dev`` rows may be looked at while writing phrases; ``test`` and
``test2`` are held out (see the data file's header for how each came about).
``--errors dev`` also lists the dev rows it gets wrong. The rows a held-out split gets
wrong are listed only with ``--unseal``: looking at them while changing phrases turns
the split into dev, and its figures into wishful ones.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .crisis import detect

DATA: Final = Path(__file__).with_name("data") / "crisis_labelled.tsv"
LANGS: Final = ("en", "hi", "hi-Latn", "pa", "pa-Latn")
SPLITS: Final = ("dev", "test", "test2")
HELD_OUT: Final = ("test", "test2")


@dataclass(frozen=True)
class Example:
    split: str
    lang: str
    label: bool
    category: str
    text: str


def load(path: Path = DATA) -> list[Example]:
    rows: list[Example] = []
    with path.open(encoding="utf-8", newline="") as f:
        lines = (line for line in f if line.strip() and not line.startswith("#"))
        for row in csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["split"] not in SPLITS or row["lang"] not in LANGS:
                raise ValueError(f"{path}: bad row {row!r}")
            if row["label"] not in ("0", "1"):
                raise ValueError(f"{path}: bad label in {row!r}")
            rows.append(Example(row["split"], row["lang"], row["label"] == "1", row["category"], row["text"]))
    return rows


def score(pairs: Iterable[tuple[bool, bool]]) -> dict[str, float]:
    """Counts and precision/recall/F1 of (expected, predicted) pairs."""
    tp = fp = fn = tn = 0
    for expected, predicted in pairs:
        if expected and predicted:
            tp += 1
        elif predicted:
            fp += 1
        elif expected:
            fn += 1
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": tp + fp + fn + tn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def evaluate(examples: Sequence[Example] | None = None) -> dict[str, dict[str, float]]:
    """Scores keyed "overall", "<split>", "<lang>", "<split>/<lang>"."""
    if examples is None:
        examples = load()
    judged = [(ex, detect(ex.text) is not None) for ex in examples]
    groups: dict[str, list[tuple[bool, bool]]] = {"overall": []}
    for ex, predicted in judged:
        for key in ("overall", ex.split, ex.lang, f"{ex.split}/{ex.lang}"):
            groups.setdefault(key, []).append((ex.label, predicted))
    return {key: score(pairs) for key, pairs in groups.items()}


def errors(split: str, examples: Sequence[Example] | None = None) -> list[tuple[Example, bool]]:
    """The rows of ``split`` the detector gets wrong, with its prediction."""
    if examples is None:
        examples = load()
    wrong = []
    for ex in examples:
        if ex.split != split:
            continue
        predicted = detect(ex.text) is not None
        if predicted != ex.label:
            wrong.append((ex, predicted))
    return wrong


def format_report(results: dict[str, dict[str, float]]) -> str:
    keys = ["overall", *SPLITS, *LANGS]
    keys += [f"{s}/{lang}" for s in SPLITS for lang in LANGS]
    lines = [f"{'group':<16}{'n':>5}{'tp':>5}{'fp':>5}{'fn':>5}  precision  recall    f1"]
    for key in keys:
        if key not in results:
            continue
        r = results[key]
        lines.append(
            f"{key:<16}{r['n']:>5.0f}{r['tp']:>5.0f}{r['fp']:>5.0f}{r['fn']:>5.0f}"
            f"  {r['precision']:>9.3f}  {r['recall']:>6.3f}  {r['f1']:.3f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--errors", choices=SPLITS, help="also list the rows of this split it gets wrong")
    parser.add_argument(
        "--unseal",
        action="store_true",
        help="allow --errors on a held-out split (only once the phrases are final)",
    )
    args = parser.parse_args(argv)
    if args.errors in HELD_OUT and not args.unseal:
        parser.error(f"{args.errors} is held out: its errors are listed only with --unseal")
    examples = load()
    out = sys.stdout  # a report for the person who ran it; never the server's logs
    out.write(format_report(evaluate(examples)) + "\n")
    if args.errors:
        out.write(f"\nerrors on {args.errors}:\n")
        for ex, predicted in errors(args.errors, examples):
            kind = "false positive" if predicted else "missed"
            out.write(f"  {kind:<15} {ex.lang:<8} {ex.text}\n")


if __name__ == "__main__":
    main()

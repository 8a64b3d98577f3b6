"""How well crisis language is found, measured on text the detector never saw.

``python -m moderation.crisis_eval`` prints:

1. **the phrase rules on their own labelled set** (``data/crisis_labelled.tsv``), per
   split and language. Splits: ``dev`` rows may be looked at while writing phrases;
   ``test`` and ``test2`` are held out (see the file's header). ``--errors dev`` also
   lists the dev rows the rules get wrong; a held-out split's only with ``--unseal``.
2. **cross-writer** (``--cross-writer``): for each writer of the corpus
   (``data/crisis_corpus/``, plus the rules' set as writer "P"), the model is trained on
   every other writer (its threshold chosen on those writers' cross-validated scores)
   and judged on this writer's rows, which neither the model nor its threshold saw; the
   rules never saw any writer's rows but P's. Rules, model and both combined, per
   writer, language and category, with the false-positive rate.
3. **k-fold** (``--kfold``): the same over 5 folds of all rows.
4. **blind sets** (``--blind DIR``): writers' files kept outside the project, judged by
   the shipped model (``data/crisis_model.json``) and rules; nothing was tuned on them.

The headline for "a new writer" is the cross-writer figure pooled over every writer but
P (whose rows shaped the rules).
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
from .crisis_model import ALERT_CATEGORY, Row, features_text, load_corpus, load_model, load_writer, train

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


# -- rules, model and both, on text they never saw ---------------------------------------------


@dataclass(frozen=True)
class Judged:
    row: Row
    rules: bool
    probability: float
    model: bool

    @property
    def combined(self) -> bool:
        return self.rules or self.model


def judge_with(train_rows: Sequence[Row], test_rows: Sequence[Row], calibration_folds: int = 3) -> list[Judged]:
    """Train on ``train_rows`` (threshold from their own cross-validated scores) and judge
    ``test_rows`` with rules, model and both."""
    model = train(train_rows, folds=calibration_folds)
    probs = model.probability([features_text(r.text) for r in test_rows])
    return [Judged(r, detect(r.text) is not None, p, p >= model.threshold)
            for r, p in zip(test_rows, probs, strict=True)]


def judge_shipped(rows: Sequence[Row]) -> list[Judged]:
    model = load_model()
    out = []
    for r in rows:
        p, _ = model.judge(r.text)
        out.append(Judged(r, detect(r.text) is not None, p, p >= model.threshold))
    return out


def cross_writer(rows: Sequence[Row]) -> list[Judged]:
    out: list[Judged] = []
    for writer in sorted({r.writer for r in rows}):
        held = [r for r in rows if r.writer == writer]
        out += judge_with([r for r in rows if r.writer != writer], held)
    return out


def kfold(rows: Sequence[Row], k: int = 5) -> list[Judged]:
    out: list[Judged] = []
    for fold in range(k):
        out += judge_with([r for i, r in enumerate(rows) if i % k != fold],
                          [r for i, r in enumerate(rows) if i % k == fold])
    return out


def rates(judged: Iterable[Judged], which: str) -> dict[str, float]:
    """Recall, precision and false-positive rate of ``which`` (rules, model, combined)."""
    s = score((j.row.label, bool(getattr(j, which))) for j in judged)
    negatives = s["fp"] + s["tn"]
    s["fpr"] = s["fp"] / negatives if negatives else 0.0
    return s


def format_judged(title: str, judged: Sequence[Judged]) -> str:
    groups: dict[str, list[Judged]] = {"all": list(judged)}
    for j in judged:
        groups.setdefault(f"writer {j.row.writer}", []).append(j)
        groups.setdefault(f"lang {j.row.lang}", []).append(j)
    lines = [title, f"{'group':<16}{'n':>5}{'risk':>5}  " + "  ".join(
        f"{w:>8} R    P  FPR" for w in ("rules", "model", "both"))]
    for key, items in groups.items():
        cells = []
        for which in ("rules", "model", "combined"):
            r = rates(items, which)
            cells.append(f"{r['recall']:>10.2f} {r['precision']:.2f} {r['fpr']:.2f}")
        lines.append(f"{key:<16}{len(items):>5}{sum(j.row.label for j in items):>5}  " + "  ".join(cells))
    by_cat: dict[str, list[Judged]] = {}
    for j in judged:
        if j.row.label:
            by_cat.setdefault(ALERT_CATEGORY[j.row.category] + f" ({j.row.category})", []).append(j)
    lines.append("recall by category (both):")
    for cat, items in sorted(by_cat.items()):
        lines.append(f"  {cat:<28}{len(items):>5}  {rates(items, 'combined')['recall']:.2f}")
    return "\n".join(lines)


def load_blind(folder: Path) -> list[Row]:
    return [row for path in sorted(folder.glob("*.jsonl")) for row in load_writer(path)]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cross-writer", action="store_true", help="train on all writers but one, judge that one")
    parser.add_argument("--kfold", action="store_true", help="5-fold over every row")
    parser.add_argument("--blind", type=Path, help="judge writers' files kept outside the project (*.jsonl)")
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
    if args.cross_writer or args.kfold:
        rows = load_corpus()
        if args.cross_writer:
            judged = cross_writer(rows)
            out.write("\n" + format_judged("cross-writer (each writer judged by a model trained on the others):",
                                           judged) + "\n")
            new = [j for j in judged if j.row.writer != "P"]
            out.write("\n" + format_judged("cross-writer, every writer but P (whose rows shaped the rules):",
                                           new) + "\n")
        if args.kfold:
            out.write("\n" + format_judged("5-fold over every row:", kfold(rows)) + "\n")
    if args.blind:
        out.write("\n" + format_judged(f"blind sets in {args.blind} (shipped model and rules):",
                                       judge_shipped(load_blind(args.blind))) + "\n")


if __name__ == "__main__":
    main()

"""The learned half of crisis detection: character and word n-grams, a linear model.

The phrase rules (``moderation.crisis``) know the constructions someone wrote down; a
message phrased in a way nobody wrote down slips past them. This model reads the same
message the rules read (``unmask(normalise(text))``: look-alike letters, digits for
letters, spaced and stretched letters undone) as bags of character n-grams (2 to 5,
within words, so that "marna", "marne", "marjana" share most of their n-grams) and word
unigrams and bigrams, and scores it with a logistic regression trained on the corpus in
``data/crisis_corpus/``: messages from several writers, each of whom wrote without seeing
the rules or each other's rows (see that folder's README). The score is calibrated
(Platt scaling on cross-validated scores) into a probability; the hook alerts when the
rules fire *or* the probability passes ``threshold``, which is set for recall.

A second set of weights over the same features names the category of a risky message:
``suicide`` (suicide, self-harm, hopelessness), ``medical`` (an overdose, a withdrawal or
other medical emergency) or ``goodbye`` (last messages, giving things away).

Training needs scikit-learn (``pip install -e '.[train]'``) and happens at build time:
``python -m moderation.crisis_model train`` writes ``data/crisis_model.json``, which the
server reads (about 0.1 s, once) and scores with plain Python: no scikit-learn, no numpy
at run time. ``tests/unit/moderation/test_crisis_model.py`` checks that the file was
trained from the corpus as it is (a corpus change without retraining fails) and that
the plain-Python scores equal scikit-learn's.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .evasion import unmask
from .normalise import normalise

DATA: Final = Path(__file__).with_name("data")
CORPUS: Final = DATA / "crisis_corpus"
MODEL: Final = DATA / "crisis_model.json"
LANGS: Final = ("en", "hi", "hi-Latn", "pa", "pa-Latn")
# A writer's categories, and the three an alert names.
ROW_CATEGORIES: Final = ("suicide", "self-harm", "overdose", "medical", "goodbye", "hopelessness", "relapse")
ALERT_CATEGORY: Final = {
    "suicide": "suicide", "self-harm": "suicide", "hopelessness": "suicide",
    "overdose": "medical", "medical": "medical", "relapse": "medical",
    "goodbye": "goodbye",
}
CATEGORIES: Final = ("suicide", "medical", "goodbye")
CHAR_NGRAMS: Final = (2, 5)
WORD_NGRAMS: Final = (1, 2)
# Chosen by leave-one-writer-out on the corpus (F and J held out in turn; the blind sets
# were not used): every n-gram seen once counts (min_df 1 beat 2: AUC 0.959 / 0.948), and
# each writer weighs the same, whatever the number of their rows (0.948 / 0.927).
MIN_DF: Final = 1
C: Final = 8.0
# The probability at which the model alone raises an alert is chosen on scores each
# writer's rows got from a model trained on the *other* writers (what a new writer's
# text will get): the lowest threshold (the most recall) whose false-positive rate on
# those scores stays within MAX_FPR (see ``choose_threshold``).
MAX_FPR: Final = 0.10
TARGET_RECALL: Final = 0.92
_WORD: Final = re.compile(r"(?u)\b\w\w+\b")


@dataclass(frozen=True)
class Row:
    writer: str
    lang: str
    label: bool
    category: str
    text: str


def features_text(text: str) -> str:
    """What the model reads: the text as every word rule reads it."""
    return unmask(normalise(text).text)


# -- the corpus ----------------------------------------------------------------------------------


# The phrase rules' own labelled set (one author, who also wrote the phrases): a writer
# of the corpus like the others, named "P".
RULES_SET: Final = DATA / "crisis_labelled.tsv"
RULES_CATEGORY: Final = {"suicide": "suicide", "self-harm": "self-harm", "overdose": "overdose",
                         "relapse": "relapse"}


def load_corpus(folder: Path = CORPUS, with_rules_set: bool = True) -> list[Row]:
    """Every writer's rows: ``<writer>.jsonl`` in ``folder``, and the rules' set as "P"."""
    rows: list[Row] = []
    if with_rules_set:
        from .crisis_eval import load
        rows += [Row("P", e.lang, e.label, RULES_CATEGORY.get(e.category, "suicide") if e.label else "none", e.text)
                 for e in load(RULES_SET)]
    for path in sorted(folder.glob("*.jsonl")):
        rows += load_writer(path)
    return rows


def load_writer(path: Path, writer: str | None = None) -> list[Row]:
    """One writer's rows (``{"text", "lang", "label", "category"}`` per line)."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        d = json.loads(line)
        lang, label, cat, text = d["lang"], d["label"], d.get("category", "none"), d["text"]
        if lang not in LANGS or label not in (0, 1) or not isinstance(text, str) or not text.strip():
            raise ValueError(f"{path}:{n}: bad row")
        if label == 1 and cat not in ROW_CATEGORIES:
            raise ValueError(f"{path}:{n}: category {cat!r} is not one of {ROW_CATEGORIES}")
        out.append(Row(writer or path.stem, lang, bool(label), cat if label else "none", text))
    return out


def corpus_digest(folder: Path = CORPUS) -> str:
    h = hashlib.sha256()
    for path in [RULES_SET, *sorted(folder.glob("*.jsonl"))]:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


# -- scoring with plain Python (the server's path) -------------------------------------------


def char_wb_ngrams(text: str, lo: int = CHAR_NGRAMS[0], hi: int = CHAR_NGRAMS[1]) -> list[str]:
    """scikit-learn's ``char_wb`` analyser: n-grams inside each space-padded word."""
    out: list[str] = []
    for w in text.split():
        w = f" {w} "
        n_chars = len(w)
        for n in range(lo, hi + 1):
            if n_chars <= n:
                out.append(w)  # a short word counts once, whole
                break
            out.extend(w[i:i + n] for i in range(n_chars - n + 1))
    return out


def word_ngrams(text: str, lo: int = WORD_NGRAMS[0], hi: int = WORD_NGRAMS[1]) -> list[str]:
    """scikit-learn's ``word`` analyser with its default token pattern."""
    tokens = _WORD.findall(text)
    out: list[str] = []
    for n in range(lo, hi + 1):
        out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return out


# Scores kept per n-gram: risk and up to three categories (rows are padded to this).
WIDTH: Final = 4


def _scores(grams: Iterable[str], vocab: dict[str, tuple[float, ...]]) -> tuple[float, float, float, float]:
    """One vectoriser's share of the linear scores: its tf-idf vector (sublinear tf, L2
    normalised, as it was trained) dotted with each weight column (unrolled: this is
    the hot loop of every chat message)."""
    a0 = a1 = a2 = a3 = norm2 = 0.0
    get = vocab.get
    for gram, tf in Counter(grams).items():
        row = get(gram)
        if row is None:
            continue
        v = row[0] if tf == 1 else (1.0 + math.log(tf)) * row[0]
        norm2 += v * v
        a0 += v * row[1]
        a1 += v * row[2]
        a2 += v * row[3]
        a3 += v * row[4]
    if norm2 == 0.0:
        return 0.0, 0.0, 0.0, 0.0
    inv = 1.0 / math.sqrt(norm2)
    return a0 * inv, a1 * inv, a2 * inv, a3 * inv


def _padded(vocab: dict[str, list[float]]) -> dict[str, tuple[float, ...]]:
    return {gram: (*row, *([0.0] * (1 + WIDTH - len(row)))) for gram, row in vocab.items()}


class CrisisModel:
    """Trained weights, scored in plain Python."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.char_vocab = _padded(data["char"])
        self.word_vocab = _padded(data["word"])
        self.intercepts: list[float] = [*data["intercepts"], *([0.0] * (WIDTH - len(data["intercepts"])))]
        self.platt: tuple[float, float] = (float(data["platt"][0]), float(data["platt"][1]))
        self.threshold: float = data["threshold"]
        self.categories: tuple[str, ...] = tuple(data["categories"])

    def decisions(self, text: str) -> list[float]:
        """Raw linear scores: [risk, then one per category], for ``features_text(text)``."""
        chars = _scores(char_wb_ngrams(text), self.char_vocab)
        words = _scores(word_ngrams(text), self.word_vocab)
        return [b + c + w for b, c, w in zip(self.intercepts, chars, words, strict=True)][:1 + len(self.categories)]

    def judge(self, text: str) -> tuple[float, str]:
        """The probability that ``text`` is crisis language, and its likeliest category."""
        return self.judge_view(features_text(text))

    def judge_view(self, view: str) -> tuple[float, str]:
        """``judge`` for a text already read as the model reads it (``features_text``)."""
        d = self.decisions(view)
        a, b = self.platt
        p = 1.0 / (1.0 + math.exp(-(a * d[0] + b)))
        best = max(range(len(self.categories)), key=lambda k: d[k + 1])
        return p, self.categories[best]


@functools.cache
def load_model(path: Path = MODEL) -> CrisisModel:
    return CrisisModel(json.loads(path.read_text(encoding="utf-8")))


# -- training (scikit-learn; build time only) ---------------------------------------------------


def _vectorisers() -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, min_df=MIN_DF, sublinear_tf=True,
                            lowercase=False)
    words = TfidfVectorizer(analyzer="word", ngram_range=WORD_NGRAMS, min_df=MIN_DF, sublinear_tf=True,
                            lowercase=False)
    return chars, words


@dataclass
class Trained:
    chars: Any
    words: Any
    risk: Any
    category: Any
    platt: tuple[float, float]
    threshold: float

    def decision(self, texts: Sequence[str]) -> Any:
        return self.risk.decision_function(self._x(texts))

    def _x(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import hstack
        return hstack([self.chars.transform(texts), self.words.transform(texts)]).tocsr()

    def probability(self, texts: Sequence[str]) -> list[float]:
        a, b = self.platt
        return [1.0 / (1.0 + math.exp(-(a * d + b))) for d in self.decision(texts)]


def _fit_linear(x: Any, y: Sequence[Any], weights: Sequence[float], balanced: bool = True) -> Any:
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=C, class_weight="balanced" if balanced else None, max_iter=5000, random_state=0,
                              solver="liblinear" if len(set(y)) == 2 else "lbfgs").fit(x, y, sample_weight=weights)


def writer_weights(rows: Sequence[Row]) -> list[float]:
    """Each writer weighs the same in training, however many rows they wrote: one
    prolific author must not teach the model their phrasing as the language of crisis."""
    counts = Counter(r.writer for r in rows)
    raw = [1.0 / counts[r.writer] for r in rows]
    mean = sum(raw) / len(raw)
    return [w / mean for w in raw]


def train(rows: Sequence[Row], calibrate: bool = True, folds: int = 5) -> Trained:
    """Fit the vectorisers, the risk model, the category model, and (``calibrate``) the
    Platt scaling and the threshold on 5-fold cross-validated scores."""
    from scipy.sparse import hstack
    texts = [features_text(r.text) for r in rows]
    y = [int(r.label) for r in rows]
    chars, words = _vectorisers()
    x = hstack([chars.fit_transform(texts), words.fit_transform(texts)]).tocsr()
    weights = writer_weights(rows)
    risk = _fit_linear(x, y, weights)
    positive = [i for i, r in enumerate(rows) if r.label]
    category = _fit_linear(x[positive], [ALERT_CATEGORY[rows[i].category] for i in positive],
                           [weights[i] for i in positive])
    platt, threshold = (1.0, 0.0), 0.5
    if calibrate:
        decisions = _cross_decisions(rows, y, folds)
        platt = _platt(decisions, y)
        probs = [1.0 / (1.0 + math.exp(-(platt[0] * d + platt[1]))) for d in decisions]
        threshold = choose_threshold(probs, y)
    return Trained(chars, words, risk, category, platt, threshold)


def _cross_decisions(rows: Sequence[Row], y: Sequence[int], folds: int = 5) -> list[float]:
    """Each row's score from a model that did not see it: trained on the other writers
    when there are at least three, else on the other ``folds``."""
    out = [0.0] * len(rows)
    writers = sorted({r.writer for r in rows})
    groups = ([[i for i, r in enumerate(rows) if r.writer == w] for w in writers] if len(writers) >= 3
              else [[i for i in range(len(rows)) if i % folds == k] for k in range(folds)])
    for test in groups:
        held = set(test)
        train_rows = [r for i, r in enumerate(rows) if i not in held]
        model = train(train_rows, calibrate=False)
        for i, d in zip(test, model.decision([features_text(rows[i].text) for i in test]), strict=True):
            out[i] = float(d)
    return out


def _platt(decisions: Sequence[float], y: Sequence[int]) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression
    fit = LogisticRegression(C=1e6, max_iter=1000).fit([[d] for d in decisions], y)
    return float(fit.coef_[0][0]), float(fit.intercept_[0])


def choose_threshold(probs: Sequence[float], y: Sequence[int], recall: float = TARGET_RECALL,
                     max_fpr: float = MAX_FPR) -> float:
    """The threshold that reaches ``recall`` on these scores, unless that costs more than
    ``max_fpr`` false positives: then the lowest one within ``max_fpr``."""
    positives = sorted((p for p, t in zip(probs, y, strict=True) if t), reverse=True)
    negatives = sorted((p for p, t in zip(probs, y, strict=True) if not t), reverse=True)
    if not positives:
        return 0.5
    k = max(0, min(len(positives) - 1, math.ceil(recall * len(positives)) - 1))
    for_recall = positives[k] - 1e-9
    allowed = math.floor(max_fpr * len(negatives))  # false positives within max_fpr
    within_fpr = negatives[allowed] + 1e-9 if allowed < len(negatives) else 0.0
    return max(for_recall, within_fpr)


def export(model: Trained, digest: str) -> dict[str, Any]:
    """The weights as the server reads them: per n-gram [idf, risk weight, category weights]."""
    risk_w = model.risk.coef_[0]
    n_char = len(model.chars.vocabulary_)
    cat_w = model.category.coef_
    classes = [str(c) for c in model.category.classes_]
    if len(classes) == 2:  # a binary category model has one row; make it two
        cat_w = [-cat_w[0], cat_w[0]]
    cat_b = list(model.category.intercept_) if len(classes) > 2 else [-model.category.intercept_[0],
                                                                        model.category.intercept_[0]]

    def table(vec: Any, offset: int) -> dict[str, list[float]]:
        return {gram: [round(float(vec.idf_[j]), 6), round(float(risk_w[offset + j]), 6),
                       *(round(float(row[offset + j]), 6) for row in cat_w)]
                for gram, j in sorted(vec.vocabulary_.items())}

    return {
        "about": "crisis model: see moderation/crisis_model.py; retrain with python -m moderation.crisis_model train",
        "corpus_sha256": digest,
        "char": table(model.chars, 0),
        "word": table(model.words, n_char),
        "intercepts": [float(model.risk.intercept_[0]), *(float(b) for b in cat_b)],
        "categories": classes,
        "platt": [model.platt[0], model.platt[1]],
        "threshold": model.threshold,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m moderation.crisis_model")
    parser.add_argument("command", choices=["train"])
    parser.add_argument("--out", type=Path, default=MODEL)
    args = parser.parse_args(argv)
    rows = load_corpus()
    model = train(rows)
    data = export(model, corpus_digest())
    args.out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"trained on {len(rows)} rows from {len({r.writer for r in rows})} writers; "
          f"{len(data['char'])} char and {len(data['word'])} word n-grams; threshold {data['threshold']:.3f}; "
          f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

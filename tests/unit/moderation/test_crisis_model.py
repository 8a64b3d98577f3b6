"""Issue 13: the learned model beside the rules, the conversation adding up, the categories.

The model is trained at build time (``python -m moderation.crisis_model train``); these
tests check that what ships was trained from the corpus as it is, that the server's
plain-Python scoring equals scikit-learn's, and how the hook combines rules, model and
the conversation.
"""

from __future__ import annotations

import gc
import json
import time
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from moderation import crisis_model as m
from moderation.hooks.crisis import CONTEXT_MS, CrisisHook
from moderation.verdict import MessageContext

MINUTE = 60_000


def ctx(text: str, at: int = 0, sender: str = "ana", room: str = "r") -> MessageContext:
    return MessageContext(room, "circle", sender, "member", text, at)


def test_the_shipped_model_was_trained_from_the_corpus_as_it_is() -> None:
    # A corpus change without `python -m moderation.crisis_model train` fails here.
    data = json.loads(m.MODEL.read_text(encoding="utf-8"))
    assert data["corpus_sha256"] == m.corpus_digest()
    assert set(data["categories"]) <= set(m.CATEGORIES)
    assert 0.0 < data["threshold"] < 1.0


def test_the_model_loads_in_well_under_a_second() -> None:
    # CPU time, not wall time: other processes on a busy CI box must not make it fail.
    # And the heap the suite's earlier tests left is frozen out of the collector meanwhile:
    # the server loads the model at start with a small heap, so this measures the load
    # (0.15-0.2 s), not collections of a thousand tests' objects. A model that really
    # grew, or a slower loader, still fails.
    gc.collect()
    gc.freeze()
    try:
        started = time.process_time()
        model = m.CrisisModel(json.loads(m.MODEL.read_text(encoding="utf-8")))
        took = time.process_time() - started
    finally:
        gc.unfreeze()
    assert took < 0.5, took
    assert model.char_vocab and model.word_vocab


texts = st.text(alphabet=st.sampled_from("abcdeilmnorst '.!\t\nमरनाਮਰਨਾ0123"), max_size=60)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_the_n_grams_are_scikit_learns(text: str) -> None:
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=m.CHAR_NGRAMS, lowercase=False).build_analyzer()
    words = TfidfVectorizer(analyzer="word", ngram_range=m.WORD_NGRAMS, lowercase=False).build_analyzer()
    assert Counter(m.char_wb_ngrams(text)) == Counter(chars(text))
    assert Counter(m.word_ngrams(text)) == Counter(words(text))


def test_plain_python_scores_equal_scikit_learns() -> None:
    rows = m.load_corpus()[::3]  # a third of the corpus: quick to train
    trained = m.train(rows, calibrate=False)
    model = m.CrisisModel(m.export(trained, "test"))
    views = [m.features_text(r.text) for r in rows[:300]]
    for view, expected in zip(views, trained.decision(views), strict=True):
        assert abs(model.decisions(view)[0] - expected) < 1e-3, view


def test_the_threshold_is_chosen_for_recall() -> None:
    probs = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    truth = [1, 1, 1, 0, 1, 1, 0, 1, 0, 0]
    t = m.choose_threshold(probs, truth, recall=0.8, max_fpr=1.0)
    found = [p >= t for p in probs]
    hits = sum(f and y for f, y in zip(found, truth, strict=True))
    assert hits / sum(truth) >= 0.8
    assert m.choose_threshold(probs, truth, recall=1.0, max_fpr=1.0) <= 0.2
    # Unless that recall costs more false positives than allowed: then within the bound.
    t = m.choose_threshold(probs, truth, recall=1.0, max_fpr=0.25)
    false_alarms = sum(p >= t and not y for p, y in zip(probs, truth, strict=True))
    assert false_alarms <= 0.25 * truth.count(0) and t > 0.2


# -- the hook: rules or model or the conversation -------------------------------------------------


def tiny_model(weights: dict[str, tuple[float, float, float, float]], threshold: float = 0.5) -> m.CrisisModel:
    """A real model with a vocabulary of a few words (word unigrams only): each word's
    [idf, risk weight, weights for suicide, medical, goodbye]."""
    return m.CrisisModel({
        "char": {}, "word": {w: [1.0, *ws] for w, ws in weights.items()},
        "intercepts": [-2.0, 0.0, 0.0, 0.0], "categories": ["suicide", "medical", "goodbye"],
        "platt": [1.0, 0.0], "threshold": threshold,
    })


# Alone: "tired" scores 0.40 and "goodbye" 0.43, both under the 0.5 threshold; a message
# of other words 0.12.
WORDS = {"tired": (1.595, 1.0, 0.0, 0.0), "goodbye": (1.718, 0.0, 0.0, 1.0), "pills": (4.0, 0.0, 1.0, 0.0)}


def test_a_goodbye_after_i_cannot_go_on_is_an_alert_though_neither_alone_is() -> None:
    hook = CrisisHook(model=tiny_model(WORDS))
    assert not hook.judge(ctx("so tired", at=0)).crisis
    later = hook.judge(ctx("goodbye", at=5 * MINUTE))
    assert later.crisis and later.crisis_category == "goodbye"
    # Alone, either is quiet: another person, or the same person long after.
    fresh = CrisisHook(model=tiny_model(WORDS))
    assert not fresh.judge(ctx("goodbye")).crisis
    assert not hook.judge(ctx("goodbye", at=0, sender="bea")).crisis
    assert not hook.judge(ctx("goodbye", at=0, room="other")).crisis
    slow = CrisisHook(model=tiny_model(WORDS))
    slow.judge(ctx("so tired", at=0))
    assert not slow.judge(ctx("goodbye", at=CONTEXT_MS + MINUTE)).crisis


def test_an_ordinary_message_after_a_risky_one_is_not_a_new_alert() -> None:
    hook = CrisisHook(model=tiny_model(WORDS))
    hook.judge(ctx("so tired", at=0))
    assert not hook.judge(ctx("ok see you all on tuesday", at=MINUTE)).crisis


def test_the_model_alone_raises_an_alert_with_its_category() -> None:
    hook = CrisisHook(model=tiny_model(WORDS))
    v = hook.judge(ctx("i have the pills here"))
    assert v.crisis and v.crisis_category == "medical"
    assert v.alerts[0].detail == "crisis language: medical (en)"


def test_the_rules_alone_still_raise_an_alert() -> None:
    hook = CrisisHook(model=tiny_model({}))
    v = hook.judge(ctx("मैं आज रात मरना चाहता हूँ"))
    assert v.crisis and v.crisis_category == "suicide" and v.alerts[0].detail.endswith("(hi)")
    od = hook.judge(ctx("I took way too many pills and I can't breathe"))
    assert od.crisis and od.crisis_category == "medical"


def test_the_hook_keeps_scores_for_a_bounded_number_of_people() -> None:
    from moderation.hooks import crisis
    hook = CrisisHook(model=tiny_model(WORDS))
    for i in range(crisis.CONTEXT_PEOPLE + 50):
        hook.judge(ctx("so tired", sender=f"p{i}"))
    assert len(hook._recent) == crisis.CONTEXT_PEOPLE


def test_a_deployment_adds_its_own_phrases_with_a_category() -> None:
    from moderation.pipeline import build_pipeline
    pipeline = build_pipeline({"pipeline": ["crisis"], "crisis": {
        "medical_phrases": ["safed powder", "blue tablet"], "goodbye_phrases": ["last chai"]}})
    hook = pipeline.hooks[0]
    assert isinstance(hook, CrisisHook)
    med = hook.judge(ctx("bhai maine b l u e tabl3t kha li"))  # disguised, still theirs
    assert med.crisis and med.crisis_category == "medical"
    bye = hook.judge(ctx("this is my last chai with you all", sender="bea"))
    assert bye.crisis and bye.crisis_category == "goodbye"
    # Whole words only: "blue tablets" is not "blue tablet" (the model kept out of it here).
    own = CrisisHook(model=tiny_model({}), phrases={"medical": ["blue tablet"]})
    assert not own.judge(ctx("the blue tablets in my grandmother's story")).crisis
    assert own.judge(ctx("took the blue tablet")).crisis

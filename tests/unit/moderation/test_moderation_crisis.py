"""Crisis language: the hook's verdicts, hard cases, and the labelled-set figures."""

from __future__ import annotations

import asyncio

import pytest

from moderation.crisis import detect, detect_exhaustively, normalise
from moderation.crisis_eval import evaluate, format_report, load
from moderation.hooks.crisis import CrisisHook
from moderation.pipeline import Pipeline
from moderation.verdict import Action, Alert, MessageContext, Verdict


def ctx(text: str) -> MessageContext:
    return MessageContext("r", "circle", "ana", "member", text, 0)


@pytest.mark.parametrize(
    "text",
    [
        "I don't want to live anymore",
        "I want to kill myself",
        "thinking about suicde",
        "sucide feels like the only way out",
        "i want to kil myself",
        "i want to overdoze",
        "मैं मरना चाहता हूँ",
        "main marna chahta hu",
        "ਮੈਂ ਮਰਨਾ ਚਾਹੁੰਦਾ ਹਾਂ",
        "main marna chahunda haan",
        "jeene ka mann nahi karta",
        "I can't stop thinking about killing myself",
    ],
)
def test_crisis_language_is_detected(text: str) -> None:
    assert detect(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "I'm not going to kill myself",
        "I have never thought of suicide",
        "main marna nahi chahta",
        "ਮੈਂ ਮਰਨਾ ਨਹੀਂ ਚਾਹੁੰਦਾ",
        "this traffic is killing me",
        "I killed it at work",
        "dying to see you",
        "relapse prevention workshop on Friday",
        "overdose awareness day",
        "I used to want to die, but today I'm 90 days clean",
        "Goodbye everyone, see you next week!",
        "If you're having thoughts of self harm please call 14416",
    ],
)
def test_negations_history_and_hyperbole_are_not_crisis(text: str) -> None:
    assert detect(text) is None


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("I want to kill myself", "crisis language: suicide (en)"),
        ("I cut myself again last night", "crisis language: self-harm (en)"),
        ("मैंने बहुत सारी गोलियाँ खा ली हैं", "crisis language: overdose (hi)"),
        ("main khudkushi kar lunga", "crisis language: suicide (hi)"),
        ("main khudkushi kar lavanga", "crisis language: suicide (pa)"),
        ("ਡੀਲਰ ਆ ਰਿਹਾ ਹੈ ਤੇ ਮੈਂ ਆਪਣੇ ਆਪ ਨੂੰ ਰੋਕ ਨਹੀਂ ਸਕਦਾ", "crisis language: relapse (pa)"),
    ],
)
def test_detail_names_category_and_language(text: str, detail: str) -> None:
    found = detect(text)
    assert found is not None and found.detail == detail


def test_hook_never_blocks_and_never_quotes_the_text() -> None:
    text = "I want to end my life tonight"
    verdict = CrisisHook().judge(ctx(text))
    assert verdict == Verdict(Action.ALLOW, alerts=(Alert("crisis", "crisis language: suicide (en)"),), crisis=True)
    assert "life" not in verdict.alerts[0].detail.replace("crisis language", "")
    assert CrisisHook().judge(ctx("30 days today")) == Verdict()


def test_crisis_still_reaches_a_responder_when_an_earlier_hook_blocks() -> None:
    class Blocker:
        name = "blocked_terms"
        fail_open = False
        timeout_s = 1.0

        async def check(self, c: MessageContext) -> Verdict:
            return Verdict(Action.BLOCK, reason="blocked_term")

    verdict = asyncio.run(Pipeline([Blocker(), CrisisHook()]).run(ctx("f*** everything, I want to die")))
    assert verdict.action is Action.BLOCK and verdict.crisis is True


def test_normalise_canonicalises_spellings_and_clauses() -> None:
    assert normalise("I'm NOT gonna   kil myslef!! but ok") == "i am not going to kill myself | ok"
    assert normalise("मैं मरना चाहता हूँ") == normalise("मैं मरना चाहता हूं")  # chandrabindu/anusvara
    assert normalise("ज़िंदगी") == normalise("जिंदगी")  # nukta


def test_the_token_index_never_changes_an_answer() -> None:
    for example in load():
        assert detect(example.text) == detect_exhaustively(example.text), example.text


def test_precision_and_recall_on_the_labelled_set() -> None:
    results = evaluate()
    print()  # shown with pytest -s
    print(format_report(results))
    overall = results["overall"]
    assert overall["n"] >= 200
    assert overall["precision"] >= 0.9
    assert overall["recall"] >= 0.9
    # The held-out split is reported, and guarded against collapse rather than tuned to.
    assert results["test"]["precision"] >= 0.85


def test_the_labelled_set_covers_every_language_and_script_both_ways() -> None:
    examples = load()
    for lang in ("en", "hi", "hi-Latn", "pa", "pa-Latn"):
        labels = {e.label for e in examples if e.lang == lang}
        assert labels == {True, False}, lang
    assert {e.split for e in examples} == {"dev", "test"}

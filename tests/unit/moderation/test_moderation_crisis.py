"""Crisis language: the hook's verdicts, hard cases, and the labelled-set figures."""

from __future__ import annotations

import asyncio
import re

import pytest

from moderation.crisis import detect, detect_exhaustively, normalise
from moderation.crisis_eval import evaluate, format_report, load, main
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


# One or two (dev) sentences per construction, in words no fixed phrase lists.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("they'd all be relieved if I were gone", "suicide"),
        ("it would be a relief for everyone once I'm gone", "suicide"),
        ("I just want to not be here anymore", "suicide"),
        ("I hope I die in my sleep tonight", "suicide"),
        ("praying I don't wake up tomorrow", "suicide"),
        ("I don't know how much longer I can keep doing this", "suicide"),
        ("there is no reason for me to be here", "suicide"),
        ("I keep going to the train tracks and standing there", "suicide"),
        ("I have the rope ready", "suicide"),
        ("I put my affairs in order today and updated my will, just in case", "suicide"),
        ("I've been stockpiling my methadone", "overdose"),
        ("I looked up the lethal dose of my meds", "overdose"),
        ("I'm going to mix my sleeping pills with a bottle of wine tonight", "overdose"),
        ("haven't used in 6 months but I'm going to do my old amount tonight", "overdose"),
        ("the urges to burn my skin are really strong tonight", "self-harm"),
        ("I carved into my arm with a razor", "self-harm"),
        ("got some fent from a new guy, using it tonight by myself", "relapse"),
        ("I'm about to shoot up and I don't care what happens", "relapse"),
        ("mere jaane ke baad sab chain se rahenge", "suicide"),
        ("kaash main kal subah uthun hi nahi", "suicide"),
        ("मैंने नींद की गोलियाँ इकट्ठी कर रखी हैं", "suicide"),
        ("ਅੱਜ ਰਾਤ ਸਭ ਮੁਕਾ ਦੇਣਾ", "suicide"),
        ("aj kalla baith ke saara maal la laina", "relapse"),
    ],
)
def test_constructions_generalise_past_the_fixed_phrases(text: str, category: str) -> None:
    found = detect(text)
    assert found is not None and category in found.categories, (text, found)


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
        # resolved history, by a year or by the time of the addiction
        "In 2015 I overdosed on heroin and woke up in the ICU; I've been clean since",
        "I thought about ending it many times when I was drinking; six months sober now",
        "I felt suicidal last year but therapy helped a lot",
        # hyperbole, and the near misses of the wider constructions
        "I'd rather die than sing karaoke lol",
        "That meeting was so boring I wanted to die lol",
        "go ahead and start, you'll be fine without me tonight",
        "my doctor said never mix alcohol with benzos",
        "I'm not going to use alone, I have my sponsor on the phone",
        "Made up my mind: tonight is the night I tell my wife I'm an alcoholic",
        "I hope I don't wake up late tomorrow, big day",
        "He keeps looking at the knife block when he's angry, should I worry about him?",
        "kal chhutti hai, subah jaldi nahi uthna",
        "mere bina meri beti akeli pad jayegi, isliye lad raha hoon",
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
    assert verdict == Verdict(Action.ALLOW, alerts=(Alert("crisis", "crisis language: suicide (en)"),), crisis=True,
                              crisis_category="suicide")
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
    assert normalise("They'd be fine, I'll go, I'm ill") == "they would be fine | i will go | i am ill"
    assert normalise("मैं मरना चाहता हूँ") == normalise("मैं मरना चाहता हूं")  # chandrabindu/anusvara
    assert normalise("ज़िंदगी") == normalise("जिंदगी")  # nukta


def test_alert_details_never_quote_the_message() -> None:
    shape = re.compile(r"crisis language: (?:suicide|overdose|self-harm|relapse)(?:, [a-z-]+)* \((?:en|hi|pa)\)")
    for example in load():
        found = detect(example.text)
        if found is not None:
            assert shape.fullmatch(found.detail), found.detail


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


def test_precision_and_recall_on_the_held_out_test2_batch() -> None:
    # Measured once before the construction tables (P 0.83 R 0.39) and once after
    # (P 0.95 R 0.90; English P 0.90 R 0.86): floors a little below the latter, so a
    # real regression fails. Never tune phrases to this split (see the data header).
    results = evaluate()
    assert results["test2"]["n"] >= 150
    assert results["test2"]["precision"] >= 0.90
    assert results["test2"]["recall"] >= 0.85
    assert results["test2/en"]["precision"] >= 0.85
    assert results["test2/en"]["recall"] >= 0.80


def test_held_out_errors_are_listed_only_when_unsealed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--errors", "test2"])
    assert "held out" in capsys.readouterr().err


def test_the_labelled_set_covers_every_language_and_script_both_ways() -> None:
    examples = load()
    for lang in ("en", "hi", "hi-Latn", "pa", "pa-Latn"):
        labels = {e.label for e in examples if e.lang == lang}
        assert labels == {True, False}, lang
    assert {e.split for e in examples} == {"dev", "test", "test2"}
    test2 = [e for e in examples if e.split == "test2"]
    for lang in ("en", "hi", "hi-Latn", "pa", "pa-Latn"):
        assert {e.label for e in test2 if e.lang == lang} == {True, False}, lang

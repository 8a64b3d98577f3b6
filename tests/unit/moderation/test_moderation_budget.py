"""Issue 12 item 2 and the hook time budget: no built-in hook may stall the event loop.

Synchronous hooks run on the event loop, so a slow one delays every room on the worker.
The bounds asserted here are generous (shared CI machines pause); the honest figures
are printed with ``pytest -s`` and recorded in the notes of the change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderation.hooks.blocked_terms import BlockedTermsHook
from moderation.normalise import normalise
from moderation.pipeline import BUILTIN_HOOKS, Hook, build_pipeline
from moderation.verdict import Action, MessageContext, Verdict

# What the issue asks for is 5 ms on crafted 10 KB input; the assertion allows for a
# loaded machine, the measured figure is printed.
CRAFTED_BOUND_S = 0.025


def ctx(text: str) -> MessageContext:
    return MessageContext("r", "circle", "ana", "member", text, 0)


def crafted_inputs(size: int) -> dict[str, str]:
    """Texts built to make a backtracking matcher go quadratic on the default list."""
    return {
        # "faggot*" compiled to f+a+g+[._-]?g+...: one long run of g between two g+.
        "run": "fa" + "g" * (size - 5) + " go",
        "run-with-separators": "fa" + "gg." * ((size - 5) // 3) + " go",
        "many-starts": ("fag.g." * (size // 6))[:size - 3] + " go",
        "doubled-letters": "mo" + "tt" * ((size - 20) // 2) + " her fu ck er",
        "repeated-words": ("faaagggooo " * (size // 11))[:size],
    }


def cost(judge: Callable[[MessageContext], Any], text: str, runs: int = 5) -> float:
    """The fastest of a few runs: the input's own cost, without the pauses of a machine
    shared with other work (the input is the same every run)."""
    best = float("inf")
    for _ in range(runs):
        message = ctx(text)
        message.normalised  # noqa: B018 -- the pipeline computes it once, before the hooks
        start = time.perf_counter()
        judge(message)
        best = min(best, time.perf_counter() - start)
    return best


def test_blocked_terms_are_linear_on_crafted_10kb_input() -> None:
    hook = BlockedTermsHook()
    for action in ("block", "redact"):
        hook = BlockedTermsHook(action=action)
        for name, text in crafted_inputs(10_240).items():
            assert len(text) <= 10_240
            took = cost(hook.judge, text)
            print(f"blocked_terms[{action}] {name} 10 KB: {took * 1000:.2f} ms")
            assert took < CRAFTED_BOUND_S, (name, took)


def test_the_crafted_input_still_finds_a_real_term_at_its_end() -> None:
    text = "fa" + "g" * 10_000 + " go faggot"
    assert BlockedTermsHook().judge(ctx(text)).action is Action.BLOCK


# -- every built-in hook, thrown adversarial text ---------------------------------------------

# The longest chat message the gateway accepts (server/gateway/schemas.py CHAT_MAX).
CHAT_MAX = 2000
# Asserted per judgement, after the fastest-of-three above: the budget is 5 ms
# (moderation.pipeline.JUDGE_BUDGET_S); the margin is for a loaded test machine.
FUZZ_BOUND_S = 0.025

# Pieces that each hook's patterns care about: term letters, separators, "at"/"dot",
# URL and handle syntax, digits in several scripts, invisible and look-alike characters.
FRAGMENTS = (
    "g", "fa", "go", "ma", "darchod", "retard", "mother", "@", ".", "-", "_", "/", ":", " ", "  ",
    "1", "9", "0", "+", "(", ")", "[", "]", "at", "dot", "com", "www.", "http://", "t.me/", "ig",
    "telegram", "whatsapp", "snap", "id", "is", "me", "dm me on", "@a", "a", "x.", "a.b", "[at]",
    "[dot]", "-1", "2024", "98765", "+91", "I", "'", "ll", "i want to die", "kill myself", "not",
    "but", "pehle", "marna", "\u200b", "\u200d", "\u00a0", "\u3000", "\u3002", "\uff0e", "\u00ad",
    "\u202e", "९", "੯", "ज़", "क्\u200dष", "ਚਾਹੁੰਦਾ", "ｇ", "\U0001f468\u200d\U0001f469", "\n", "\t",
)  # fmt: skip
ALPHABET = st.sampled_from("".join(sorted(set("".join(FRAGMENTS)))))
seeds = st.lists(
    st.sampled_from(FRAGMENTS) | st.text(ALPHABET, min_size=1, max_size=4), min_size=1, max_size=8
).map("".join)


def repeated(seed: str) -> str:
    """A short seed over and over: the shape of most inputs that make regexes slow."""
    return (seed * (CHAT_MAX // len(seed) + 1))[:CHAT_MAX]


def long_run(parts: tuple[str, str, str]) -> str:
    """A head, one fragment repeated, a tail: a long run a pattern may split many ways."""
    head, run, tail = parts
    middle = run * ((CHAT_MAX - len(head) - len(tail)) // max(len(run), 1))
    return (head + middle)[: CHAT_MAX - len(tail)] + tail


adversarial = st.one_of(
    seeds.map(repeated),
    st.tuples(seeds, st.sampled_from(FRAGMENTS), seeds).map(long_run),
    st.text(ALPHABET, max_size=CHAT_MAX),
)


def builtin_hooks() -> list[tuple[str, Hook]]:
    """Every built-in synchronous hook, in every mode that changes what it computes."""
    hooks: list[tuple[str, Hook]] = [
        (name, build_pipeline({"pipeline": [name]}).hooks[0]) for name in BUILTIN_HOOKS if name != "webhook"
    ]
    hooks.append(("links/redact", build_pipeline({"pipeline": ["links"], "links": {"mode": "redact"}}).hooks[0]))
    redacting = {"pipeline": ["blocked_terms"], "blocked_terms": {"action": "redact"}}
    hooks.append(("blocked_terms/redact", build_pipeline(redacting).hooks[0]))
    return hooks


HOOKS = builtin_hooks()


def test_every_builtin_hook_but_the_webhook_is_synchronous() -> None:
    # The webhook is IO, with its own timeout; every other built-in is judged in place.
    assert {name.split("/")[0] for name, _ in HOOKS} == set(BUILTIN_HOOKS) - {"webhook"}
    assert all(callable(getattr(hook, "judge", None)) for _, hook in HOOKS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(adversarial)
def test_no_builtin_hook_raises_or_stalls_on_adversarial_text(text: str) -> None:
    view = normalise(text)
    assert view.text == normalise(view.text).text  # a fixed point: hooks may normalise again
    for name, hook in HOOKS:
        judge = hook.judge  # type: ignore[attr-defined]
        verdict = judge(ctx(text))
        assert isinstance(verdict, Verdict) and isinstance(verdict.action, Action)
        if verdict.action is Action.REDACT:
            assert isinstance(verdict.text, str) and verdict.text != text
        took = cost(judge, text, runs=3)
        assert took < FUZZ_BOUND_S, (name, round(took * 1000, 2))


@pytest.mark.parametrize(
    "text",
    [
        repeated("fa" + "g" * 50 + " go"),
        long_run(("dot", " ", "x")),
        long_run(("fa", "g", " go")),
        repeated("@a telegram "),
        repeated("a.com "),
        long_run(("a.b'nothttp://whatsapp", "-1", "fa.me")),
        repeated("x.x.x@"),
        "gx" + ".x" * 999,  # exponential in the links hook's label pattern once
        repeated("i want to die but "),
        repeated("9\u200b"),
        repeated("\u200b"),
        "\u00a0" * CHAT_MAX,
        "ｇ" * CHAT_MAX,
    ],
    ids=lambda t: repr(t[:12]),
)
def test_known_worst_inputs_stay_within_the_budget(text: str) -> None:
    assert len(text) <= CHAT_MAX
    for name, hook in HOOKS:
        took = cost(hook.judge, text)  # type: ignore[attr-defined]
        print(f"{name} {text[:12]!r}: {took * 1000:.2f} ms")
        assert took < FUZZ_BOUND_S, (name, took)

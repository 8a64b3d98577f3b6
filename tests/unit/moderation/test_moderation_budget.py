"""Issue 12 item 2 and the hook time budget: no built-in hook may stall the event loop.

Synchronous hooks run on the event loop, so a slow one delays every room on the worker.
The bounds asserted here are generous (shared CI machines pause); the honest figures
are printed with ``pytest -s`` and recorded in the notes of the change.
"""

from __future__ import annotations

import time

from moderation.hooks.blocked_terms import BlockedTermsHook
from moderation.verdict import Action, MessageContext

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


def worst_of(hook: BlockedTermsHook, text: str, runs: int = 5) -> float:
    worst = 0.0
    for _ in range(runs):
        start = time.perf_counter()
        hook.judge(ctx(text))
        worst = max(worst, time.perf_counter() - start)
    return worst


def test_blocked_terms_are_linear_on_crafted_10kb_input() -> None:
    hook = BlockedTermsHook()
    for action in ("block", "redact"):
        hook = BlockedTermsHook(action=action)
        for name, text in crafted_inputs(10_240).items():
            assert len(text) <= 10_240
            took = worst_of(hook, text)
            print(f"blocked_terms[{action}] {name} 10 KB: {took * 1000:.2f} ms")
            assert took < CRAFTED_BOUND_S, (name, took)


def test_the_crafted_input_still_finds_a_real_term_at_its_end() -> None:
    text = "fa" + "g" * 10_000 + " go faggot"
    assert BlockedTermsHook().judge(ctx(text)).action is Action.BLOCK

"""Pipeline: ordering, severity, redaction chaining, fail-open/closed, timeouts, logging."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from moderation.pipeline import Pipeline
from moderation.verdict import ALLOW, Action, Alert, HookError, MessageContext, Verdict

SECRET_TEXT = "my very private share about my family"


def ctx(text: str = SECRET_TEXT, *, role: str = "member", now_ms: int = 1_000_000) -> MessageContext:
    return MessageContext(
        room="friday-circle",
        room_kind="circle",
        sender_id="ana",
        sender_role=role,
        text=text,
        now_ms=now_ms,
    )


class Stub:
    """A hook that answers a fixed verdict, raises, hangs, and records what it saw."""

    def __init__(
        self,
        name: str,
        verdict: Verdict = ALLOW,
        *,
        fail_open: bool = False,
        timeout_s: float = 1.0,
        raises: Exception | None = None,
        hang_s: float = 0.0,
        runs_after_block: bool = False,
    ) -> None:
        self.name = name
        self.verdict = verdict
        self.fail_open = fail_open
        self.timeout_s = timeout_s
        self.raises = raises
        self.hang_s = hang_s
        self.runs_after_block = runs_after_block
        self.seen: list[str] = []
        self.closed = False

    async def check(self, ctx: MessageContext) -> Verdict:
        self.seen.append(ctx.text)
        if self.hang_s:
            await asyncio.sleep(self.hang_s)
        if self.raises is not None:
            raise self.raises
        return self.verdict

    async def close(self) -> None:
        self.closed = True


def run(pipeline: Pipeline, context: MessageContext | None = None) -> Verdict:
    return asyncio.run(pipeline.run(context or ctx()))


def test_empty_pipeline_allows() -> None:
    assert run(Pipeline([])) == Verdict()


def test_hooks_run_in_order_and_see_earlier_redactions() -> None:
    first = Stub("first", Verdict(Action.REDACT, text="one [x]", reason="first"))
    second = Stub("second", Verdict(Action.REDACT, text="one [x] [y]", reason="second"))
    third = Stub("third")
    verdict = run(Pipeline([first, second, third]), ctx("one two three"))
    assert first.seen == ["one two three"]
    assert second.seen == ["one [x]"]
    assert third.seen == ["one [x] [y]"]
    assert verdict.action is Action.REDACT
    assert verdict.text == "one [x] [y]"
    assert verdict.reason == "first"  # the first hook that reached the final severity


def test_block_stops_the_chain_at_once() -> None:
    blocker = Stub("blocker", Verdict(Action.BLOCK, reason="blocked_term", alerts=(Alert("blocked", "blocked term"),)))
    after = Stub("after", Verdict(Action.HOLD, reason="link"))
    verdict = run(Pipeline([blocker, after]))
    assert after.seen == []
    assert verdict.action is Action.BLOCK and verdict.reason == "blocked_term"
    assert verdict.alerts == (Alert("blocked", "blocked term"),)


def test_hooks_marked_runs_after_block_still_report_but_cannot_change_the_action() -> None:
    blocker = Stub("rate_limit", Verdict(Action.BLOCK, reason="rate_limited"))
    crisis = Stub(
        "crisis",
        Verdict(Action.HOLD, alerts=(Alert("crisis", "crisis language: suicide (en)"),), crisis=True),
        runs_after_block=True,
    )
    ordinary = Stub("links", Verdict(Action.HOLD, reason="link"))
    verdict = run(Pipeline([blocker, ordinary, crisis]))
    assert ordinary.seen == [] and crisis.seen == [SECRET_TEXT]
    assert verdict.action is Action.BLOCK and verdict.reason == "rate_limited"
    assert verdict.crisis is True
    assert [a.kind for a in verdict.alerts] == ["crisis"]


def test_hold_is_remembered_and_later_hooks_still_run() -> None:
    hold = Stub("links", Verdict(Action.HOLD, reason="link"))
    redact = Stub("contact", Verdict(Action.REDACT, text="[contact removed]", reason="contact_details"))
    crisis = Stub("crisis", Verdict(alerts=(Alert("crisis", "crisis language: overdose (en)"),), crisis=True))
    verdict = run(Pipeline([hold, redact, crisis]))
    assert redact.seen and crisis.seen
    assert verdict.action is Action.HOLD and verdict.reason == "link"
    # The earlier-or-later redaction is kept so a facilitator reviews the redacted text.
    assert verdict.text == "[contact removed]"
    assert verdict.crisis is True


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        ((Action.ALLOW, Action.REDACT), Action.REDACT),
        ((Action.REDACT, Action.HOLD, Action.ALLOW), Action.HOLD),
        ((Action.HOLD, Action.REDACT), Action.HOLD),
        ((Action.ALLOW, Action.ALLOW), Action.ALLOW),
        ((Action.REDACT, Action.BLOCK, Action.HOLD), Action.BLOCK),
    ],
)
def test_final_action_is_the_most_severe(actions: tuple[Action, ...], expected: Action) -> None:
    hooks = [
        Stub(f"h{i}", Verdict(a, text=f"text {i}" if a is Action.REDACT else None, reason=a.value))
        for i, a in enumerate(actions)
    ]
    verdict = run(Pipeline(hooks))
    assert verdict.action is expected
    assert verdict.reason == ("" if expected is Action.ALLOW else expected.value)


def test_alerts_accumulate_and_crisis_ors() -> None:
    a = Stub("a", Verdict(alerts=(Alert("contact", "contact details removed: phone"),)))
    b = Stub("b", Verdict(crisis=True, alerts=(Alert("crisis", "crisis language: suicide (hi)"),)))
    c = Stub("c", Verdict(crisis=False))
    verdict = run(Pipeline([a, b, c]))
    assert [x.kind for x in verdict.alerts] == ["contact", "crisis"]
    assert verdict.crisis is True


def test_a_redaction_that_changes_nothing_is_an_allow() -> None:
    verdict = run(Pipeline([Stub("noop", Verdict(Action.REDACT, text="same", reason="x"))]), ctx("same"))
    assert verdict == Verdict()


def test_raising_hook_fails_closed_by_default() -> None:
    broken = Stub("broken", raises=RuntimeError(SECRET_TEXT), fail_open=False)
    after = Stub("after")
    verdict = run(Pipeline([broken, after]))
    assert verdict.action is Action.HOLD and verdict.reason == "hook_failed"
    assert verdict.alerts == (Alert("hook_failed", "broken: error (RuntimeError)"),)
    assert after.seen == [SECRET_TEXT]  # a hold does not stop the chain
    assert SECRET_TEXT not in repr(verdict.alerts)


def test_raising_hook_fails_open_when_configured() -> None:
    verdict = run(Pipeline([Stub("broken", raises=ValueError("boom"), fail_open=True)]))
    assert verdict.action is Action.ALLOW and verdict.reason == ""
    assert [a.kind for a in verdict.alerts] == ["hook_failed"]


def test_hook_error_message_is_kept_as_it_is_safe() -> None:
    verdict = run(Pipeline([Stub("webhook", raises=HookError("webhook answered HTTP 500"))]))
    assert verdict.alerts == (Alert("hook_failed", "webhook: webhook answered HTTP 500"),)


def test_hanging_hook_times_out_and_follows_its_policy() -> None:
    closed = Stub("slow", hang_s=30, timeout_s=0.05, fail_open=False)
    opened = Stub("slow2", hang_s=30, timeout_s=0.05, fail_open=True)
    started = time.monotonic()
    verdict = run(Pipeline([closed, opened]))
    assert time.monotonic() - started < 1.0
    assert verdict.action is Action.HOLD and verdict.reason == "hook_failed"
    assert verdict.alerts == (Alert("hook_failed", "slow: timeout"), Alert("hook_failed", "slow2: timeout"))


class Stubborn:
    """Swallows its first cancellation, as badly written hooks do."""

    name = "stubborn"
    fail_open = True
    timeout_s = 0.05

    async def check(self, ctx: MessageContext) -> Verdict:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)  # keeps going for a while instead of stopping
        return Verdict(Action.BLOCK, reason="too late")


def test_a_hook_that_ignores_cancellation_cannot_hold_the_message() -> None:
    async def main() -> tuple[Verdict, float]:
        started = time.monotonic()
        verdict = await Pipeline([Stubborn()]).run(ctx())
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.3)  # let the abandoned task finish before the loop closes
        return verdict, elapsed

    verdict, elapsed = asyncio.run(main())
    assert elapsed < 0.15
    assert verdict.action is Action.ALLOW and verdict.alerts == (Alert("hook_failed", "stubborn: timeout"),)


def test_a_hook_returning_nonsense_follows_its_policy() -> None:
    class Nonsense(Stub):
        async def check(self, ctx: MessageContext) -> Verdict:
            return "allow"  # type: ignore[return-value]

    class RedactWithoutText(Stub):
        async def check(self, ctx: MessageContext) -> Verdict:
            return Verdict(Action.REDACT)

    verdict = run(Pipeline([Nonsense("nonsense"), RedactWithoutText("redactor", fail_open=True)]))
    assert verdict.action is Action.HOLD
    assert verdict.alerts == (
        Alert("hook_failed", "nonsense: hook returned no verdict"),
        Alert("hook_failed", "redactor: hook redacted without a text"),
    )


def test_sync_judge_is_used_when_a_hook_has_one() -> None:
    class Pure(Stub):
        def judge(self, ctx: MessageContext) -> Verdict:
            self.seen.append("judge:" + ctx.text)
            return Verdict(Action.HOLD, reason="pure")

    hook = Pure("pure")
    verdict = run(Pipeline([hook]), ctx("x"))
    assert hook.seen == ["judge:x"] and verdict.reason == "pure"


def test_failures_are_logged_without_message_text(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="circles.moderation")
    run(Pipeline([Stub("broken", raises=RuntimeError(f"could not parse {SECRET_TEXT!r}"))]))
    records = [r for r in caplog.records if r.name == "circles.moderation"]
    assert records, "a failing hook must be logged"
    for record in records:
        assert SECRET_TEXT not in record.getMessage()
        assert all(SECRET_TEXT not in str(value) for value in vars(record).values())
    assert records[0].__dict__["hook"] == "broken"


def test_close_closes_hooks_that_have_close() -> None:
    a, b = Stub("a"), Stub("b")

    class NoClose:
        name = "plain"
        fail_open = True
        timeout_s = 1.0

        async def check(self, ctx: MessageContext) -> Verdict:
            return ALLOW

    asyncio.run(Pipeline([a, NoClose(), b]).close())
    assert a.closed and b.closed


# -- time budget, the normalised view, over-long text (issue 12) -----------------------------


class Judged:
    """A synchronous hook that records the view it was given; each call "takes" a set
    time on the fake timer the pipeline is given."""

    fail_open = False
    timeout_s = 1.0

    def __init__(self, name: str, clock: list[float], takes_s: float, verdict: Verdict = ALLOW) -> None:
        self.name = name
        self.clock = clock
        self.takes_s = takes_s
        self.verdict = verdict
        self.views: list[object] = []
        self.runs_after_block = False

    async def check(self, ctx: MessageContext) -> Verdict:
        return self.judge(ctx)

    def judge(self, ctx: MessageContext) -> Verdict:
        self.views.append(ctx.normalised)
        self.clock[0] += self.takes_s
        return self.verdict


def test_a_judgement_over_budget_is_logged_by_name_and_duration_only_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="circles.moderation")
    clock = [0.0]
    slow = Judged("slow", clock, 0.020)
    quick = Judged("quick", clock, 0.001)
    pipeline = Pipeline([slow, quick], budget_s=0.005, timer=lambda: clock[0])
    assert run(pipeline).action is Action.ALLOW  # over budget is reported, not punished
    run(pipeline)
    assert pipeline.over_budget == {"slow": 2}
    records = [r for r in caplog.records if r.getMessage() == "moderation hook over its time budget"]
    assert [(r.hook, r.ms) for r in records] == [("slow", 20.0), ("slow", 20.0)]  # type: ignore[attr-defined]
    for record in records:
        assert SECRET_TEXT not in str(record.__dict__)
        assert set(record.__dict__) >= {"hook", "ms"} and "room" not in record.__dict__


def test_the_normalised_view_is_worked_out_once_per_text() -> None:
    clock = [0.0]
    first = Judged("first", clock, 0.0, Verdict(Action.REDACT, text="one [x]", reason="first"))
    second = Judged("second", clock, 0.0)
    third = Judged("third", clock, 0.0)
    run(Pipeline([first, second, third], timer=lambda: clock[0]), ctx("one two\u200b"))
    assert first.views[0].text == "one two"  # type: ignore[attr-defined]
    # A redaction makes a new text, and so one new view, shared by the hooks after it.
    assert second.views[0] is third.views[0] and second.views[0].text == "one [x]"  # type: ignore[attr-defined]


def test_the_view_is_timed_as_normalise(caplog: pytest.LogCaptureFixture) -> None:
    ticks = iter([0.0, 0.050, 0.050, 0.050])  # normalise takes 50 ms, the hook nothing
    clock = [0.0]
    pipeline = Pipeline([Judged("quick", clock, 0.0)], timer=lambda: next(ticks))
    run(pipeline)
    assert pipeline.over_budget == {"normalise": 1}


def test_text_past_the_longest_judged_is_blocked_and_still_read_for_crisis() -> None:
    from moderation.pipeline import MAX_TEXT_CHARS

    ordinary = Stub("links", Verdict(Action.HOLD, reason="link"))
    crisis = Stub("crisis", Verdict(alerts=(Alert("crisis", "crisis language: suicide (en)"),), crisis=True),
                  runs_after_block=True)  # fmt: skip
    long_text = "x" * (MAX_TEXT_CHARS + 1)
    verdict = run(Pipeline([ordinary, crisis]), ctx(long_text))
    assert verdict.action is Action.BLOCK and verdict.reason == "too_long" and verdict.text is None
    assert verdict.crisis is True and ordinary.seen == []
    assert crisis.seen == ["x" * MAX_TEXT_CHARS]
    exactly = run(Pipeline([ordinary]), ctx("x" * MAX_TEXT_CHARS))
    assert exactly.action is Action.HOLD

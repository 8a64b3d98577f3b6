"""The moderation pipeline: hooks run in order, their verdicts combined into one.

Combining rules:

- each hook sees the text as redacted by the hooks before it;
- BLOCK stops the chain at once, except for hooks marked ``runs_after_block`` (the
  crisis hook): they still look at the message so that crisis language in a blocked or
  rate-limited message still reaches a responder, but they cannot change the action;
- HOLD is remembered and later hooks still run (so crisis alerts still come);
- the final action is the most severe seen (block > hold > redact > allow), and its
  reason the reason of the first hook that reached it; alerts accumulate; crisis ORs;
- a hook that raises, times out or answers nonsense follows its ``fail_open`` policy:
  True → treated as ALLOW plus an Alert "hook_failed"; False → HOLD with reason
  "hook_failed" (plus the same alert). Failures are logged with the hook's name, never
  with the message text.

Time: a synchronous hook (``judge``) runs on the event loop, where nothing can interrupt
it, so every built-in one is linear in the text and takes a few ms at most on any
message the server accepts (2000 characters). Every ``judge`` call is timed; one over
``JUDGE_BUDGET_S`` is logged (hook name and duration only) and counted in
``Pipeline.over_budget``. The normalised view the rules match on
(``MessageContext.normalised``) is computed once per text, timed as "normalise". A text
longer than ``MAX_TEXT_CHARS`` is not judged: BLOCK "too_long" (the hooks that run after
a block still read its first ``MAX_TEXT_CHARS``, so crisis language is still seen).

Configuration (the ``[moderation]`` table of the TOML file)::

    [moderation]
    pipeline = ["rate_limit", "contact_details", "links", "blocked_terms", "crisis",
                {name = "spam", hook = "mypkg.spam:make_hook"},   # custom, by import path
                "mypkg.other:factory"]                            # custom, named by its path
    [moderation.links]
    allow = ["example.org"]
    mode = "hold"              # or "block", "redact", "allow"
    [moderation.spam]          # options of the entry named "spam"
    fail_open = true           # every hook: fail_open, timeout_s
    threshold = 3              # anything else is for the factory

A built-in may run twice under different names: ``{name = "strict", hook = "links"}``.
A custom factory is called with the entry's option table (without ``fail_open`` and
``timeout_s``, which the pipeline applies) and returns a ``Hook``.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Final, Protocol, cast, runtime_checkable

from .options import HookOptions, Options, read_table
from .verdict import ALLOW, Action, Alert, HookError, MessageContext, Verdict

logger = logging.getLogger("circles.moderation")

DEFAULT_PIPELINE: Final = ("rate_limit", "contact_details", "links", "blocked_terms", "crisis")

# Built-in hooks, by name: "module:factory", each factory taking (options, name).
BUILTIN_HOOKS: Final[Mapping[str, str]] = {
    "rate_limit": "moderation.hooks.rate_limit:from_options",
    "contact_details": "moderation.hooks.contact_details:from_options",
    "links": "moderation.hooks.links:from_options",
    "blocked_terms": "moderation.hooks.blocked_terms:from_options",
    "crisis": "moderation.hooks.crisis:from_options",
    "webhook": "moderation.hooks.webhook:from_options",
}

# More hooks than this per message is a configuration mistake, not a policy.
MAX_HOOKS: Final = 32
# A synchronous hook blocks every room on the worker while it runs. Each built-in one
# takes under a millisecond on an ordinary message and a few on the worst crafted
# 2000-character one (tests/unit/moderation/test_moderation_budget.py); a judgement past
# this is worth a log line, since five of them add up to a noticeable pause.
JUDGE_BUDGET_S: Final = 0.005
# The longest text the hooks are given: the largest payload the gateway accepts (16 KiB),
# eight times the longest chat message. Chat and notes never come near it; the bound
# keeps a future caller from handing a linear-time hook a megabyte.
MAX_TEXT_CHARS: Final = 16_384
# What the budget accounting calls the normalised view's computation.
NORMALISE: Final = "normalise"
_ENTRY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
_IMPORT_PATH = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")
_POLICY_KEYS: Final = ("fail_open", "timeout_s")


@runtime_checkable
class Hook(Protocol):
    """One step of the pipeline.

    Optional extras the pipeline looks for:

    - ``def judge(self, ctx) -> Verdict``: a synchronous twin of ``check``. Pure policy
      hooks have one and the pipeline calls it directly (no task, no timeout: asyncio
      could not interrupt synchronous code anyway), timing it against the budget.
    - ``runs_after_block: bool``: still consulted after a BLOCK (alerts and crisis only).
    - ``async def close(self) -> None``: called by ``Pipeline.close``.
    """

    name: str
    fail_open: bool
    timeout_s: float

    async def check(self, ctx: MessageContext) -> Verdict: ...


class Pipeline:
    """Runs hooks in order and combines their verdicts (see the module docstring)."""

    def __init__(
        self,
        hooks: Sequence[Hook],
        *,
        budget_s: float = JUDGE_BUDGET_S,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._hooks: tuple[Hook, ...] = tuple(hooks)
        # Resolved once: the per-message loop should not repeat attribute lookups.
        self._steps: tuple[tuple[Hook, Callable[[MessageContext], Verdict] | None, bool], ...] = tuple(
            (hook, _sync_judge(hook), bool(getattr(hook, "runs_after_block", False))) for hook in self._hooks
        )
        self._budget_s = budget_s
        self._timer = timer
        self._over_budget: Counter[str] = Counter()

    @property
    def hooks(self) -> tuple[Hook, ...]:
        return self._hooks

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(hook.name for hook in self._hooks)

    @property
    def over_budget(self) -> Mapping[str, int]:
        """How many judgements each hook (and "normalise") took longer than the budget."""
        return dict(self._over_budget)

    async def run(self, ctx: MessageContext) -> Verdict:
        if len(ctx.text) > MAX_TEXT_CHARS:
            logger.warning("moderation text too long to judge", extra={"chars": len(ctx.text)})
            head = replace(ctx, text=ctx.text[:MAX_TEXT_CHARS])
            seen = await self._run(head, blocked=True)
            return replace(seen, action=Action.BLOCK, text=None, reason="too_long")
        return await self._run(ctx, blocked=False)

    async def _run(self, ctx: MessageContext, *, blocked: bool) -> Verdict:
        text = ctx.text
        action = Action.ALLOW
        reason = ""
        alerts: list[Alert] = []
        crisis = False
        category: str | None = None
        seen = ctx  # one context per text, so its normalised view is worked out once
        viewed = False
        for hook, judge, runs_after_block in self._steps:
            if blocked and not runs_after_block:
                continue
            if seen.text is not text:  # an earlier hook redacted
                seen = replace(ctx, text=text)
                viewed = False
            if not viewed:
                self._normalise(seen)
                viewed = True
            verdict = await self._judge(hook, judge, seen)
            alerts.extend(verdict.alerts)
            crisis = crisis or verdict.crisis
            if verdict.crisis and category != "medical":
                category = verdict.crisis_category or category  # a medical emergency wins
            if blocked:
                continue
            step = verdict.action
            if step is Action.REDACT:
                if verdict.text is None or verdict.text == text:
                    step = Action.ALLOW  # a "redaction" that changed nothing
                else:
                    text = verdict.text
            if step.severity > action.severity:
                action, reason = step, verdict.reason
            if step is Action.BLOCK:
                blocked = True
        return Verdict(
            action,
            text=None if text == ctx.text else text,
            reason=reason,
            alerts=tuple(alerts),
            crisis=crisis,
            crisis_category=category if crisis else None,
        )

    def _normalise(self, ctx: MessageContext) -> None:
        start = self._timer()
        try:
            ctx.normalised  # noqa: B018 -- computed now, and cached on the context
        finally:
            self._account(NORMALISE, self._timer() - start)

    def _account(self, name: str, took_s: float) -> None:
        if took_s <= self._budget_s:
            return
        self._over_budget[name] += 1
        # Name and duration only: what made it slow is the text, which is never logged.
        logger.warning("moderation hook over its time budget", extra={"hook": name, "ms": round(took_s * 1000, 2)})

    async def _judge(
        self,
        hook: Hook,
        judge: Callable[[MessageContext], Verdict] | None,
        ctx: MessageContext,
    ) -> Verdict:
        try:
            if judge is not None:
                start = self._timer()
                try:
                    verdict = judge(ctx)
                finally:
                    self._account(hook.name, self._timer() - start)
            else:
                verdict = await _with_timeout(hook, ctx)
            return _checked(verdict)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            failure = "timeout"
        except HookError as exc:
            failure = str(exc) or "error"
        except Exception as exc:  # any hook bug follows the fail policy
            # Only the class name: an exception's message may quote the chat text.
            failure = f"error ({type(exc).__name__})"
        logger.warning(
            "moderation hook failed",
            extra={
                "hook": hook.name,
                "room": ctx.room,
                "failure": failure,
                "fail_open": hook.fail_open,
            },
        )
        alert = Alert("hook_failed", f"{hook.name}: {failure}")
        if hook.fail_open:
            return Verdict(alerts=(alert,))
        return Verdict(Action.HOLD, reason="hook_failed", alerts=(alert,))

    async def close(self) -> None:
        """Close every hook that has a ``close()`` (the webhook's HTTP session)."""
        for hook in self._hooks:
            close = getattr(hook, "close", None)
            if close is None:
                continue
            try:
                result = close()
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # one hook must not stop the others
                logger.warning(
                    "moderation hook close failed",
                    extra={"hook": hook.name, "failure": type(exc).__name__},
                )


async def _with_timeout(hook: Hook, ctx: MessageContext) -> Verdict:
    # Like asyncio.wait_for, except that a hook which ignores its cancellation cannot
    # hold the message past its timeout: the task is cancelled and left behind.
    task = asyncio.ensure_future(hook.check(ctx))
    done, _ = await asyncio.wait((task,), timeout=hook.timeout_s)
    if not done:
        task.cancel()
        task.add_done_callback(_discard_result)
        raise TimeoutError
    return task.result()


def _discard_result(task: asyncio.Future[Verdict]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log "never retrieved"


def _checked(verdict: object) -> Verdict:
    if not isinstance(verdict, Verdict) or not isinstance(verdict.action, Action):
        raise HookError("hook returned no verdict")
    if verdict.action is Action.REDACT and not isinstance(verdict.text, str):
        raise HookError("hook redacted without a text")
    return verdict


def _sync_judge(hook: Hook) -> Callable[[MessageContext], Verdict] | None:
    judge = getattr(hook, "judge", None)
    if judge is None or not callable(judge) or inspect.iscoroutinefunction(judge):
        return None
    return cast(Callable[[MessageContext], Verdict], judge)


class _Configured:
    """A hook under another name, or with the pipeline's fail policy or timeout."""

    def __init__(self, inner: Hook, name: str, fail_open: bool, timeout_s: float) -> None:
        self.inner = inner
        self.name = name
        self.fail_open = fail_open
        self.timeout_s = timeout_s
        self.runs_after_block = bool(getattr(inner, "runs_after_block", False))
        judge = _sync_judge(inner)
        if judge is not None:
            self.judge = judge

    async def check(self, ctx: MessageContext) -> Verdict:
        return await self.inner.check(ctx)

    async def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            result = close()
            if inspect.isawaitable(result):
                await result


# -- building from configuration -----------------------------------------------------------


def merge_config(config: Mapping[str, Any] | None, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """A room's ``moderation`` table laid over the deployment's.

    ``pipeline`` is replaced as a whole; each hook's option table is merged key by key,
    the room's keys winning (a room can add one domain to ``links.allow`` by giving the
    whole ``allow`` list, without repeating ``mode``).
    """
    merged: dict[str, Any] = dict(_as_table(config, "[moderation]"))
    for key, value in _as_table(overrides, "room [moderation]").items():
        base = merged.get(key)
        if isinstance(value, Mapping) and isinstance(base, Mapping):
            merged[key] = {**base, **value}
        else:
            merged[key] = value
    return merged


def build_pipeline(config: Mapping[str, Any] | None, overrides: Mapping[str, Any] | None = None) -> Pipeline:
    """Build the pipeline a ``[moderation]`` table describes (``None``: the default).

    ``overrides`` is a room's own ``moderation`` table (see ``merge_config``). Any
    mistake raises ``ValueError`` naming the table and key, so the server can validate
    its configuration at start by building the pipeline once.
    """
    table = merge_config(config, overrides)
    raw_pipeline = table.get("pipeline", list(DEFAULT_PIPELINE))
    if not isinstance(raw_pipeline, (list, tuple)):
        raise ValueError("[moderation] pipeline: expected a list of hook names")
    if len(raw_pipeline) > MAX_HOOKS:
        raise ValueError(f"[moderation] pipeline: at most {MAX_HOOKS} hooks")

    entries = [_parse_entry(raw, index) for index, raw in enumerate(raw_pipeline)]
    names = [entry[0] for entry in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(
            f"[moderation] pipeline: hook name(s) used twice: {', '.join(duplicates)} "
            f'(run a hook twice with {{name = "other", hook = "..."}})'
        )
    for key, value in table.items():
        if key == "pipeline":
            continue
        if not isinstance(value, Mapping):
            raise ValueError(f"[moderation]: unknown option {key!r}")
        if key not in names and key not in BUILTIN_HOOKS:
            raise ValueError(
                f"[moderation.{key}]: no hook named {key!r} in the pipeline (pipeline: {', '.join(names) or 'empty'})"
            )

    hooks: list[Hook] = []
    for name, target, inline in entries:
        options = table.get(name)
        if inline is not None and options is not None:
            raise ValueError(
                f"[moderation] pipeline entry {name!r}: give its options inline or in [moderation.{name}], not both"
            )
        hooks.append(_build_hook(name, target, inline if inline is not None else options))
    return Pipeline(hooks)


def _as_table(value: Mapping[str, Any] | None, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected a table")
    return value


class _Entry(Options):
    """A pipeline entry given as a table: ``{name = "strict", hook = "links", options = {...}}``."""

    name: str
    hook: str | None = None  # default: the built-in hook of that name
    options: dict[str, Any] | None = None


def _parse_entry(raw: object, index: int) -> tuple[str, str, Mapping[str, Any] | None]:
    """(name, builtin name or import path, inline options) of one pipeline entry."""
    where = f"[moderation] pipeline[{index}]"
    if isinstance(raw, str):
        if raw in BUILTIN_HOOKS:
            return raw, raw, None
        if _IMPORT_PATH.fullmatch(raw):
            return raw, raw, None
        raise ValueError(
            f"{where}: unknown hook {raw!r}; built-in hooks are "
            f"{', '.join(BUILTIN_HOOKS)}, custom hooks are given as 'package.module:factory'"
        )
    if isinstance(raw, Mapping):
        entry = read_table(_Entry, raw, where)
        name = entry.name
        target = entry.hook if entry.hook is not None else name
        inline = entry.options
        if not _ENTRY_NAME.fullmatch(name):
            raise ValueError(f"{where} name: {name!r} is not a valid hook name")
        if target not in BUILTIN_HOOKS and not _IMPORT_PATH.fullmatch(target):
            raise ValueError(
                f"{where} hook: {target!r} is neither a built-in hook "
                f"({', '.join(BUILTIN_HOOKS)}) nor an import path 'package.module:factory'"
            )
        return name, target, inline
    raise ValueError(f"{where}: expected a hook name or a table, got {type(raw).__name__}")


def _resolve(path: str, where: str) -> Callable[..., Any]:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"{where}: cannot import {module_name!r} ({exc})") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ValueError(f"{where}: {module_name!r} has no callable {attr!r}")
    return cast(Callable[..., Any], factory)


def _build_hook(name: str, target: str, options: Mapping[str, Any] | None) -> Hook:
    where = f"[moderation.{name}]"
    if options is not None and not isinstance(options, Mapping):
        raise ValueError(f"{where}: expected a table")
    if target in BUILTIN_HOOKS:
        factory = _resolve(BUILTIN_HOOKS[target], where)
        hook = factory(dict(options or {}), name)
        return _validated(hook, where)

    given = dict(options or {})
    policy = read_table(HookOptions, {k: v for k, v in given.items() if k in _POLICY_KEYS}, where)
    rest = {k: v for k, v in given.items() if k not in _POLICY_KEYS}
    factory = _resolve(target, where)
    try:
        hook = factory(rest)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    except Exception as exc:  # a bad custom factory is a config error
        raise ValueError(f"{where}: factory {target!r} failed: {type(exc).__name__}") from None
    hook = _validated(hook, where)
    if not policy.model_fields_set and hook.name == name:
        return hook
    return _Configured(
        hook,
        name=name,
        fail_open=policy.fail_open if "fail_open" in policy.model_fields_set else hook.fail_open,
        timeout_s=policy.timeout_s if "timeout_s" in policy.model_fields_set else hook.timeout_s,
    )


def _validated(hook: object, where: str) -> Hook:
    if not isinstance(hook, Hook):
        raise ValueError(
            f"{where}: the factory returned {type(hook).__name__}, not a hook "
            f"(needs name, fail_open, timeout_s and async check(ctx))"
        )
    if not inspect.iscoroutinefunction(hook.check):
        raise ValueError(f"{where}: check() must be an async method")
    if not isinstance(hook.name, str) or not isinstance(hook.fail_open, bool):
        raise ValueError(f"{where}: hook name must be a string and fail_open a boolean")
    timeout = hook.timeout_s
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"{where}: hook timeout_s must be a positive number")
    return hook


__all__ = [
    "ALLOW",
    "BUILTIN_HOOKS",
    "DEFAULT_PIPELINE",
    "JUDGE_BUDGET_S",
    "MAX_TEXT_CHARS",
    "Hook",
    "Pipeline",
    "build_pipeline",
    "merge_config",
]

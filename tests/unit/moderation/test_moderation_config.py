"""Building pipelines from the [moderation] table: defaults, options, errors, overrides."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Mapping
from typing import Any

import pytest

from moderation.hooks.example_custom import KeywordHoldHook
from moderation.hooks.links import LinksHook
from moderation.pipeline import (
    DEFAULT_PIPELINE,
    build_pipeline,
    merge_config,
)
from moderation.verdict import ALLOW, Action, MessageContext, Verdict


def ctx(text: str, *, room: str = "friday-circle", now_ms: int = 1_000_000) -> MessageContext:
    return MessageContext(room, "circle", "ana", "member", text, now_ms)


def judge(config: Mapping[str, Any] | None, text: str, overrides: Mapping[str, Any] | None = None) -> Verdict:
    return asyncio.run(build_pipeline(config, overrides).run(ctx(text)))


def test_default_pipeline_matches_the_contract() -> None:
    assert build_pipeline(None).names == DEFAULT_PIPELINE
    assert DEFAULT_PIPELINE == ("rate_limit", "contact_details", "links", "blocked_terms", "crisis")
    verdict = judge(None, "see https://example.com/page")
    assert verdict.action is Action.HOLD and verdict.reason == "link"


def test_the_contract_example_file_parses_and_builds() -> None:
    doc = tomllib.loads(
        """
        [moderation]
        pipeline = ["rate_limit", "contact_details", "links", "blocked_terms", "crisis"]
        [moderation.links]
        allow = ["example.org"]
        mode = "hold"
        [moderation.blocked_terms]
        terms = ["badword"]
        action = "redact"
        [moderation.rate_limit]
        per_10s = 3
        """
    )
    pipeline = build_pipeline(doc["moderation"])
    assert pipeline.names == DEFAULT_PIPELINE
    assert asyncio.run(pipeline.run(ctx("read docs.example.org/intro"))) == ALLOW
    verdict = asyncio.run(pipeline.run(ctx("what a badword")))
    assert verdict.action is Action.REDACT and verdict.text == "what a ***"


def test_links_can_be_blocked_or_allowed_by_config() -> None:
    assert judge({"links": {"mode": "block"}}, "go to spam.com").action is Action.BLOCK
    assert judge({"links": {"mode": "allow"}}, "go to spam.com") == ALLOW


def test_custom_hook_by_import_path_with_options() -> None:
    config = {
        "pipeline": ["links", {"name": "keywords", "hook": "moderation.hooks.example_custom:make_hook"}],
        "keywords": {"words": ["cash"], "fail_open": False, "timeout_s": 0.5},
    }
    pipeline = build_pipeline(config)
    assert pipeline.names == ("links", "keywords")
    hook = pipeline.hooks[1]
    assert hook.fail_open is False and hook.timeout_s == 0.5  # the pipeline applied them
    verdict = asyncio.run(pipeline.run(ctx("bring cash tomorrow")))
    assert verdict.action is Action.HOLD and verdict.reason == "keyword"


def test_custom_hook_given_as_a_bare_import_path_with_inline_options() -> None:
    path = "moderation.hooks.example_custom:make_hook"
    pipeline = build_pipeline({"pipeline": [path], path: {"words": ["cash"]}})
    assert pipeline.names == (path,)
    inline = build_pipeline({"pipeline": [{"name": "kw", "hook": path, "options": {"words": ["cash"]}}]})
    assert isinstance(getattr(inline.hooks[0], "inner", None), KeywordHoldHook)
    assert asyncio.run(inline.run(ctx("cash"))).reason == "keyword"


def test_a_builtin_can_run_twice_under_another_name() -> None:
    config = {
        "pipeline": ["links", {"name": "strict_links", "hook": "links"}],
        "links": {"mode": "allow"},
        "strict_links": {"mode": "block", "allow": ["example.org"]},
    }
    pipeline = build_pipeline(config)
    assert pipeline.names == ("links", "strict_links")
    assert isinstance(pipeline.hooks[1], LinksHook)
    assert asyncio.run(pipeline.run(ctx("see evil.com"))).action is Action.BLOCK


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"pipeline": "links"}, "expected a list"),
        ({"pipeline": ["nope"]}, "unknown hook 'nope'"),
        ({"pipeline": [42]}, "expected a hook name or a table"),
        ({"pipeline": ["links", "links"]}, "used twice"),
        ({"pipeline": [{"hook": "links"}]}, "pipeline[0] name: Field required"),
        ({"pipeline": [{"name": "x", "hook": "links", "colour": 1}]}, "unknown key(s) colour"),
        ({"pipeline": [{"name": "bad name!", "hook": "links"}]}, "not a valid hook name"),
        ({"pipeline": ["no.such.module:factory"]}, "cannot import"),
        ({"pipeline": ["moderation.pipeline:nothing_here"]}, "no callable"),
        ({"pipeline": ["moderation.verdict:Alert"]}, "factory"),
        ({"pipeline": [{"name": "k", "hook": "moderation.hooks.example_custom:make_hook"}]}, "at least one word"),
        ({"links": {"mode": "maybe"}}, "[moderation.links] mode"),
        ({"links": {"allow": "example.org"}}, "allow: Input should be a valid list"),
        (
            {
                "links": {"allow": ["https://example.org/x"]},
            },
            "not a domain name",
        ),
        ({"links": {"allwo": ["example.org"]}}, "[moderation.links]: unknown key(s) allwo"),
        ({"blocked_terms": {"action": "shout"}}, "[moderation.blocked_terms] action"),
        ({"blocked_terms": {"terms": [""]}}, "non-empty string"),
        ({"rate_limit": {"per_10s": 0}}, "per_10s: Input should be greater than or equal to 1"),
        ({"rate_limit": {"per_10s": "5"}}, "per_10s: Input should be a valid integer"),
        ({"rate_limit": {"per_10s": True}}, "per_10s: Input should be a valid integer"),
        ({"crisis": {"timeout_s": 0}}, "greater than 0"),
        ({"crisis": {"timeout_s": 2000}}, "timeout_s: Input should be less than or equal to 30"),
        ({"crisis": {"fail_open": "yes"}}, "fail_open: Input should be a valid boolean"),
        ({"lnks": {"mode": "hold"}}, "no hook named 'lnks'"),
        ({"strictness": 3}, "unknown option 'strictness'"),
        ({"pipeline": ["webhook"]}, "[moderation.webhook] url: Field required"),
        ({"pipeline": ["webhook"], "webhook": {"url": "ftp://x", "secret": "s"}}, "http:// or https://"),
        ({"pipeline": ["webhook"], "webhook": {"url": "http://127.0.0.1:1/x"}}, "exactly one of secret"),
        (
            {"pipeline": ["webhook"], "webhook": {"url": "http://127.0.0.1:1/x", "secret_env": "CIRCLES_NOPE_XYZ"}},
            "is not set",
        ),
    ],
)
def test_invalid_config_raises_a_clear_value_error(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as info:
        build_pipeline(config)
    assert message in str(info.value)


def test_options_for_a_builtin_not_in_the_pipeline_are_allowed() -> None:
    # A room override may turn the hook on; the options are checked when it does.
    assert build_pipeline({"pipeline": ["links"], "webhook": {}}).names == ("links",)
    with pytest.raises(ValueError, match="url: Field required"):
        build_pipeline({"pipeline": ["links"], "webhook": {}}, {"pipeline": ["webhook"]})


def test_webhook_secret_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCLES_TEST_HOOK_SECRET", "s3cret")
    config = {
        "pipeline": ["webhook"],
        "webhook": {"url": "http://127.0.0.1:9/j", "secret_env": "CIRCLES_TEST_HOOK_SECRET"},
    }
    assert build_pipeline(config).names == ("webhook",)


def test_room_overrides_replace_the_pipeline_and_merge_options() -> None:
    base = {"links": {"mode": "hold", "allow": ["example.org"]}}
    override = {"pipeline": ["links", "crisis"], "links": {"allow": ["example.org", "recovery.org"]}}
    merged = merge_config(base, override)
    assert merged["pipeline"] == ["links", "crisis"]
    assert merged["links"] == {"mode": "hold", "allow": ["example.org", "recovery.org"]}
    assert base["links"] == {"mode": "hold", "allow": ["example.org"]}  # untouched
    pipeline = build_pipeline(base, override)  # what server.app does for a room with its own table
    assert pipeline.names == ("links", "crisis")
    assert asyncio.run(pipeline.run(ctx("see recovery.org"))) == ALLOW
    assert judge(base, "see recovery.org").action is Action.HOLD


def test_an_override_can_only_be_valid_config() -> None:
    with pytest.raises(ValueError, match="mode"):
        build_pipeline(None, {"links": {"mode": "sometimes"}})

"""The webhook hook against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from moderation.hooks.webhook import WebhookHook
from moderation.pipeline import Pipeline, build_pipeline
from moderation.signing import BODY_SIGNATURE_HEADER, verify
from moderation.verdict import Action, Alert, MessageContext, Verdict

SECRET = "s3cret-shared"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def ctx(text: str = "hello circle") -> MessageContext:
    return MessageContext("friday-circle", "circle", "ana", "member", text, 1_700_000_000_000)


async def serve(handler: Handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/judge", handler)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}/judge"


def judge_with(handler: Handler, *, fail_open: bool = False, timeout_s: float = 2.0) -> tuple[Verdict, float]:
    async def main() -> tuple[Verdict, float]:
        runner, url = await serve(handler)
        pipeline = Pipeline([WebhookHook(url=url, secret=SECRET, timeout_s=timeout_s, fail_open=fail_open)])
        try:
            started = time.monotonic()
            verdict = await pipeline.run(ctx())
            return verdict, time.monotonic() - started
        finally:
            await pipeline.close()
            await runner.cleanup()

    return asyncio.run(main())


def test_request_is_signed_and_the_verdict_is_used() -> None:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        seen["signature_ok"] = (hmac.compare_digest(expected, request.headers[BODY_SIGNATURE_HEADER])
                                and verify(SECRET, body, request.headers))
        seen["body"] = json.loads(body)
        return web.json_response(
            {
                "action": "redact",
                "text": "hello [name]",
                "reason": "policy",
                "alerts": [{"kind": "policy", "detail": "name removed"}],
            }
        )

    verdict, _ = judge_with(handler)
    assert seen["signature_ok"] is True
    assert seen["body"] == {
        "room": "friday-circle",
        "room_kind": "circle",
        "sender_id": "ana",
        "sender_role": "member",
        "text": "hello circle",
        "at": 1_700_000_000_000,
    }
    assert verdict == Verdict(
        Action.REDACT, text="hello [name]", reason="policy", alerts=(Alert("policy", "name removed"),)
    )


def test_allow_and_block_answers() -> None:
    async def allow(request: web.Request) -> web.Response:
        return web.json_response({"action": "allow"})

    async def block(request: web.Request) -> web.Response:
        return web.json_response({"action": "block", "reason": "spam", "crisis": False})

    assert judge_with(allow)[0] == Verdict()
    assert judge_with(block)[0] == Verdict(Action.BLOCK, reason="spam")


def test_timeout_applies_the_fail_policy_within_the_timeout() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1.0)
        return web.json_response({"action": "allow"})

    verdict, elapsed = judge_with(slow, timeout_s=0.2, fail_open=False)
    assert elapsed < 0.7
    assert verdict == Verdict(Action.HOLD, reason="hook_failed", alerts=(Alert("hook_failed", "webhook: timeout"),))

    verdict, elapsed = judge_with(slow, timeout_s=0.2, fail_open=True)
    assert elapsed < 0.7
    assert verdict == Verdict(alerts=(Alert("hook_failed", "webhook: timeout"),))


def test_bad_answers_apply_the_fail_policy() -> None:
    async def not_json(request: web.Request) -> web.Response:
        return web.Response(text="<html>oops</html>")

    async def bad_action(request: web.Request) -> web.Response:
        return web.json_response({"action": "explode"})

    async def redact_without_text(request: web.Request) -> web.Response:
        return web.json_response({"action": "redact"})

    async def bad_alerts(request: web.Request) -> web.Response:
        return web.json_response({"action": "allow", "alerts": [{"detail": "no kind"}]})

    async def server_error(request: web.Request) -> web.Response:
        return web.json_response({"action": "allow"}, status=500)

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://127.0.0.1:9/elsewhere")

    cases = {
        not_json: "webhook: webhook answered with a body that is not JSON",
        bad_action: "webhook: webhook answer has no valid action",
        redact_without_text: "webhook: webhook answered redact without a text",
        bad_alerts: "webhook: webhook answer has invalid alerts",
        server_error: "webhook: webhook answered HTTP 500",
        redirect: "webhook: webhook answered HTTP 302",
    }
    for handler, detail in cases.items():
        closed, _ = judge_with(handler, fail_open=False)
        assert closed == Verdict(Action.HOLD, reason="hook_failed", alerts=(Alert("hook_failed", detail),))
        opened, _ = judge_with(handler, fail_open=True)
        assert opened == Verdict(alerts=(Alert("hook_failed", detail),))


def test_unreachable_service_applies_the_fail_policy() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def main() -> Verdict:
        hook = WebhookHook(url=f"http://127.0.0.1:{port}/judge", secret=SECRET, timeout_s=1.0)
        pipeline = Pipeline([hook])
        try:
            return await pipeline.run(ctx())
        finally:
            await pipeline.close()

    verdict = asyncio.run(main())
    assert verdict.action is Action.HOLD and verdict.reason == "hook_failed"
    assert verdict.alerts[0].detail.startswith("webhook: webhook request failed")


def test_built_from_config_and_session_reused_then_closed() -> None:
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response({"action": "hold", "reason": "review"})

    async def main() -> None:
        runner, url = await serve(handler)
        pipeline = build_pipeline(
            {"pipeline": ["webhook"], "webhook": {"url": url, "secret": SECRET, "timeout_s": 1.5, "fail_open": True}}
        )
        hook = pipeline.hooks[0]
        assert isinstance(hook, WebhookHook) and hook.fail_open is True and hook.timeout_s == 1.5
        assert SECRET not in repr(hook)
        try:
            for _ in range(3):
                assert (await pipeline.run(ctx())) == Verdict(Action.HOLD, reason="review")
            session = hook._session
            assert session is not None and not session.closed
        finally:
            await pipeline.close()
            await runner.cleanup()
        assert session.closed and calls == 3

    asyncio.run(main())

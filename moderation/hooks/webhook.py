"""Ask the deployment's own moderation service, over HTTP.

The hook POSTs JSON ``{room, room_kind, sender_id, sender_role, text, at}`` to the
configured URL. Unlike everything else in the moderation package it SENDS THE MESSAGE
TEXT: the service belongs to the deployment and judging the text is its job. Point it
only at a service you run (or trust with the chat), over https or on a private network.

The body is signed (``moderation.signing``): ``X-Circles-Timestamp: <unix seconds>`` and
``X-Circles-Signature-V2: sha256=<hex HMAC-SHA256 of "<timestamp>." + the exact body
bytes with the shared secret>``; a service should refuse a timestamp more than five
minutes off. (``X-Circles-Signature``, over the body alone, is sent too for services
written before it.) The service answers 2xx with JSON::

    {"action": "allow"|"redact"|"hold"|"block",
     "text"?: str,                       # required with "redact"
     "reason"?: str, "crisis"?: bool,
     "alerts"?: [{"kind": str, "detail": str}]}

Anything else (a non-2xx status, a redirect, a body that is not that JSON, a timeout)
is a failure, and the hook's fail policy applies: by default it fails closed (the
message is held for review), since a deployment that adds a webhook wants it enforced.
Alert details from the service are passed to facilitators as they are: the service
must keep message text out of them, as the built-in hooks do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..options import HookOptions, Timeout, read_table
from ..signing import signed_headers
from ..verdict import Action, Alert, HookError, MessageContext, Verdict

NAME: Final = "webhook"
DEFAULT_TIMEOUT_S: Final = 2.0
# Bounds on what the service may send back; a verdict is a few hundred bytes.
MAX_RESPONSE_BYTES: Final = 64 * 1024
MAX_TEXT_CHARS: Final = 8000
MAX_REASON_CHARS: Final = 64
MAX_ALERTS: Final = 8
MAX_ALERT_KIND_CHARS: Final = 32
MAX_ALERT_DETAIL_CHARS: Final = 200


def request_body(ctx: MessageContext) -> bytes:
    payload = {
        "room": ctx.room,
        "room_kind": ctx.room_kind,
        "sender_id": ctx.sender_id,
        "sender_role": ctx.sender_role,
        "text": ctx.text,
        "at": ctx.now_ms,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class _AnswerAlert(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    kind: Annotated[str, Field(min_length=1, max_length=MAX_ALERT_KIND_CHARS)]
    detail: Annotated[str, Field(max_length=MAX_ALERT_DETAIL_CHARS)] = ""


class _Answer(BaseModel):
    """The service's answer. Keys it adds beyond these are ignored (a service may say
    more than Circles reads); the ones here must have exactly these types and bounds."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    # Declared in the order they are judged: the first bad one is the one reported.
    action: Action
    text: Annotated[str, Field(max_length=MAX_TEXT_CHARS)] | None = None
    reason: Annotated[str, Field(max_length=MAX_REASON_CHARS)] = "webhook"
    crisis: bool = False
    alerts: Annotated[list[_AnswerAlert], Field(max_length=MAX_ALERTS)] = Field(default_factory=list)


# What a facilitator is told (as the alert's detail) for an answer that is wrong in one field.
_WRONG: Final = {
    "action": "webhook answer has no valid action",
    "text": "webhook answer has an invalid text",
    "reason": "webhook answer has an invalid reason",
    "crisis": "webhook answer has an invalid crisis flag",
    "alerts": "webhook answer has invalid alerts",
}


def parse_response(raw: bytes) -> Verdict:
    """The service's answer as a Verdict; ``HookError`` when it is not a valid one."""
    try:
        answer = _Answer.model_validate_json(raw)
    except ValidationError as e:
        err = e.errors(include_url=False)[0]
        if err["type"] == "json_invalid":
            raise HookError("webhook answered with a body that is not JSON") from None
        field = str(err["loc"][0]) if err["loc"] else ""
        raise HookError(_WRONG.get(field, "webhook answer is not a JSON object")) from None
    action = answer.action
    if action is Action.REDACT and answer.text is None:
        raise HookError("webhook answered redact without a text")
    return Verdict(
        action,
        text=answer.text if action is Action.REDACT else None,
        reason=answer.reason if action is not Action.ALLOW else "",
        alerts=tuple(Alert(a.kind, a.detail) for a in answer.alerts),
        crisis=answer.crisis,
    )


class WebhookHook:
    """POST each message to an external moderation service and use its verdict."""

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        fail_open: bool = False,
        name: str = NAME,
    ) -> None:
        if not secret:
            raise ValueError("webhook secret must not be empty")
        self.name = name
        self.fail_open = fail_open
        self.timeout_s = timeout_s
        self.url = url
        self._secret = secret
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:  # keeps the secret out of debug output
        return f"WebhookHook(name={self.name!r}, url={self.url!r})"

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use: a ClientSession belongs to the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                headers={"User-Agent": "circles-moderation"},
            )
        return self._session

    async def check(self, ctx: MessageContext) -> Verdict:
        body = request_body(ctx)
        headers = {
            "Content-Type": "application/json",
            **signed_headers(self._secret, body),
        }
        try:
            async with self._client().post(self.url, data=body, headers=headers, allow_redirects=False) as response:
                if not 200 <= response.status < 300:
                    raise HookError(f"webhook answered HTTP {response.status}")
                raw = await response.content.read(MAX_RESPONSE_BYTES + 1)
        except aiohttp.ClientError as exc:
            raise HookError(f"webhook request failed ({type(exc).__name__})") from None
        if len(raw) > MAX_RESPONSE_BYTES:
            raise HookError("webhook answer is too large")
        return parse_response(raw)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class WebhookOptions(HookOptions):
    """``[moderation.webhook]``: where to send each message, and the secret that signs it."""

    timeout_s: Timeout = DEFAULT_TIMEOUT_S
    url: str
    secret: str = ""
    # The name of an environment variable holding the secret (keeps it out of the file).
    secret_env: str = ""

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http:// or https:// URL")
        return url

    @model_validator(mode="after")
    def _one_secret(self) -> WebhookOptions:
        if bool(self.secret) == bool(self.secret_env):
            raise ValueError(
                "give exactly one of secret or secret_env (the name of an environment variable holding the secret)")
        return self


def from_options(options: Mapping[str, Any], name: str = NAME) -> WebhookHook:
    where = f"[moderation.{name}]"
    opts = read_table(WebhookOptions, options, where)
    secret = opts.secret
    if opts.secret_env:
        secret = os.environ.get(opts.secret_env, "")
        if not secret:
            raise ValueError(f"{where} secret_env: ${opts.secret_env} is not set")
    return WebhookHook(url=opts.url, secret=secret, timeout_s=opts.timeout_s, fail_open=opts.fail_open, name=name)

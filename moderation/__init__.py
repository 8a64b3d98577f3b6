"""Chat moderation for Circles: a pipeline of hooks returning verdicts (contract §8).

The server builds one pipeline from the ``[moderation]`` table of its configuration
(``build_pipeline``; a room with its own ``moderation`` table gets
``build_pipeline(config.moderation, spec.moderation)``) and runs every ``chat.send`` through it::

    verdict = await pipeline.run(MessageContext(room, room_kind, sender_id, sender_role,
                                                text, now_ms, slow_mode_seconds, sender_is_staff))

and acts on ``verdict.action`` (allow, redact with ``verdict.text``, hold, block),
``verdict.alerts`` and ``verdict.crisis``. Nothing in this package logs or alerts with
message text; only the webhook hook sends it, to the deployment's own service.
"""

from .pipeline import (
    BUILTIN_HOOKS,
    DEFAULT_PIPELINE,
    Hook,
    Pipeline,
    build_pipeline,
    merge_config,
)
from .verdict import ALLOW, Action, Alert, HookError, MessageContext, Verdict

__all__ = [
    "ALLOW",
    "BUILTIN_HOOKS",
    "DEFAULT_PIPELINE",
    "Action",
    "Alert",
    "Hook",
    "HookError",
    "MessageContext",
    "Pipeline",
    "Verdict",
    "build_pipeline",
    "merge_config",
]

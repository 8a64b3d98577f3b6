"""JSON-lines logging to stderr.

Only fields named in ``SAFE_FIELDS`` ever reach a log line besides the message itself,
and no call site passes chat text, display names or tokens: the people in these rooms
are vulnerable, and a log is the easiest place for their words to leak.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from typing import Final

# Extra fields a log call may carry: ids and counts, never content.
SAFE_FIELDS: Final = ("room", "event", "code", "worker", "count", "ms", "port", "host", "store",
                      "workers", "pid", "status", "path", "method", "kind", "reason", "hook", "failure",
                      "fail_open", "in_flight")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": round(time.time(), 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in SAFE_FIELDS:
            if key in record.__dict__:
                out[key] = record.__dict__[key]
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type and where it happened; not its message, which may
            # quote a payload.
            tb = traceback.extract_tb(record.exc_info[2])
            out["error"] = record.exc_info[0].__name__
            out["at"] = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in tb[-3:]]
        return json.dumps(out, ensure_ascii=False)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # These libraries log packet contents (chat text, tokens) at INFO and DEBUG.
    for noisy in ("engineio", "socketio", "engineio.server", "socketio.server", "aiohttp.access",
                  "aioice", "aiortc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

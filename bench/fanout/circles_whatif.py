"""Circles with a fan-out variant applied at run time, to compare it in the same run.

    .venv/bin/python bench/fanout/circles_whatif.py VARIANT serve --port P --config FILE

The server code is not touched: this launcher changes one seam before ``circles serve``
starts, so ``bench/fanout_bench.py --servers circles,circles-queued`` puts the shipped
server and the variant side by side. Variants:

``queued``
    the path before direct writes shipped: every packet goes through Engine.IO's
    per-socket queue and writer task (``create_app(direct_write=False)``; the same
    fallback the direct path takes whenever something is queued).
``unbatched``
    every direct frame written at once, not held to the end of the event-loop turn to be
    written with the socket's others (``DirectQueue.batch = False``).
``gcfreeze``
    after start-up, ``gc.freeze()`` (the start-up objects leave the collector's view)
    and a gen-0 threshold of 50,000 instead of 700: fewer, shorter collections.
``profile``
    the shipped server under cProfile; the stats go to ``$CIRCLES_PROFILE`` (default
    ``/tmp/circles.prof``) when it stops (``python -m pstats`` reads them).
``uvloop``
    uvloop's event loop (needs ``uvloop`` importable; it is not a Circles dependency:
    e.g. ``python -m venv /tmp/uv && /tmp/uv/bin/pip install uvloop`` and
    ``PYTHONPATH=/tmp/uv/lib/python3.11/site-packages``).
"""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server import app as circles_app  # noqa: E402
from server import cli  # noqa: E402

VARIANTS = ("queued", "unbatched", "gcfreeze", "uvloop", "profile")


def wrap_create_app(**forced: Any) -> None:
    original = circles_app.create_app

    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **{**kwargs, **forced})
        if variant == "gcfreeze":
            async def freeze(_app: Any) -> None:
                gc.collect()
                gc.freeze()
                gc.set_threshold(50_000, 20, 20)
            app.on_startup.append(freeze)
        return app

    circles_app.create_app = create_app  # cli imports it from here when it serves


def main() -> int:
    global variant
    variant, argv = sys.argv[1], sys.argv[2:]
    if variant not in VARIANTS:
        raise SystemExit(f"unknown variant {variant!r}: {', '.join(VARIANTS)}")
    wrap_create_app(**({"direct_write": False} if variant == "queued" else {}))
    if variant == "unbatched":
        from server.wsdriver import DirectQueue

        DirectQueue.batch = False
    if variant == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    if variant == "profile":
        import cProfile
        import os

        profiler = cProfile.Profile()
        try:
            return int(profiler.runcall(cli.main, argv))
        finally:
            profiler.dump_stats(os.environ.get("CIRCLES_PROFILE", "/tmp/circles.prof"))
    return cli.main(argv)


variant = ""

if __name__ == "__main__":
    sys.exit(main())

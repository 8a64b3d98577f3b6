"""Stock python-socketio doing what Circles does for text, the plain way.

``join`` enters a Socket.IO room; ``chat.send`` gives the message the room's next seq,
broadcasts one ``room.event`` with ``sio.emit(..., room=...)`` (sender included) and acks
with the event, in Circles' wire shapes. ``hand.raise`` / ``hand.lower`` keep a queue per
room the same way. No tokens, no store, no validation beyond the shape: a yardstick.

    .venv/bin/python bench/fanout/stock_python.py --port 8092
"""

from __future__ import annotations

import argparse
import itertools
import time
from typing import Any

import socketio
from aiohttp import web


def make_app() -> web.Application:
    sio = socketio.AsyncServer(async_mode="aiohttp", logger=False, engineio_logger=False,
                               transports=["websocket"], ping_interval=20, ping_timeout=20)
    app = web.Application()
    sio.attach(app)
    subs: dict[str, str] = {}
    seqs: dict[str, int] = {}
    queues: dict[str, list[str]] = {}
    ids = itertools.count(1)

    def bad(code: str, message: str) -> dict[str, Any]:
        return {"ok": False, "error": {"code": code, "message": message}}

    @sio.on("connect")
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        sub = auth.get("sub") if isinstance(auth, dict) else None
        subs[sid] = sub if isinstance(sub, str) else sid

    @sio.on("disconnect")
    async def disconnect(sid: str, *args: Any) -> None:
        subs.pop(sid, None)

    @sio.on("join")
    async def join(sid: str, p: Any) -> dict[str, Any]:
        if not isinstance(p, dict) or not isinstance(p.get("room"), str):
            return bad("invalid", "room required")
        room = p["room"]
        await sio.enter_room(sid, room)
        return {"ok": True, "room": {"id": room, "seq": seqs.get(room, 0), "queue": list(queues.get(room, []))},
                "you": {"id": subs[sid]}}

    def joined(sid: str, room: Any) -> bool:
        return isinstance(room, str) and room in sio.rooms(sid)

    @sio.on("chat.send")
    async def chat(sid: str, p: Any) -> dict[str, Any]:
        if not isinstance(p, dict) or not isinstance(p.get("text"), str):
            return bad("invalid", "bad payload")
        room = p.get("room")
        if not joined(sid, room):
            return bad("not_joined", "join first")
        seq = seqs[room] = seqs.get(room, 0) + 1
        pid = subs[sid]
        event = {"room": room, "seq": seq, "type": "chat.message", "at": int(time.time() * 1000), "actor": pid,
                 "data": {"id": format(next(ids), "x"), "from": pid, "text": p["text"], "redacted": False,
                          "reply_to": None}}
        await sio.emit("room.event", event, room=room)
        return {"ok": True, "event": event}

    def hand(raise_: bool) -> Any:
        async def handler(sid: str, p: Any) -> dict[str, Any]:
            room = p.get("room") if isinstance(p, dict) else None
            if not joined(sid, room):
                return bad("not_joined", "join first")
            q = queues.setdefault(room, [])
            pid = subs[sid]
            if raise_ != (pid in q):
                if raise_:
                    q.append(pid)
                else:
                    q.remove(pid)
                seq = seqs[room] = seqs.get(room, 0) + 1
                await sio.emit("room.event", {
                    "room": room, "seq": seq, "type": "hand.raised" if raise_ else "hand.lowered",
                    "at": int(time.time() * 1000), "actor": pid, "data": {"participant_id": pid, "queue": list(q)},
                }, room=room)
            return {"ok": True, "queue": list(q)}
        return handler

    sio.on("hand.raise", hand(True))
    sio.on("hand.lower", hand(False))

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=8092)
    args = ap.parse_args()
    web.run_app(make_app(), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()

// The Node.js reference for the fan-out benchmark: socket.io 4.8 doing what Circles does
// for text, and nothing more. `join` puts the socket in a room; `chat.send` gives the
// message the room's next seq, broadcasts one `room.event` to the room (sender included)
// and acks with the event, in Circles' wire shapes (contract §4). `hand.raise` and
// `hand.lower` keep a queue per room the same way, for the turn-taking comparison.
//
//   node bench/fanout/node_server.js --port 8091
//
// Loopback only. Tokens are not checked: this is a yardstick, not a server.
"use strict";

const http = require("http");
const { Server } = require("socket.io");

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const port = Number(arg("port", "8091"));
const httpServer = http.createServer((req, res) => {
  res.writeHead(req.url === "/healthz" ? 200 : 404).end();
});
const io = new Server(httpServer, {
  transports: ["websocket"],
  serveClient: false,
  pingInterval: 20000,
  pingTimeout: 20000,
  maxHttpBufferSize: 8 * 4096,
});

const rooms = new Map(); // room -> {seq, queue: string[]}
let nextId = 0;

function roomOf(name) {
  let r = rooms.get(name);
  if (r === undefined) {
    r = { seq: 0, queue: [] };
    rooms.set(name, r);
  }
  return r;
}

function bad(ack, code, message) {
  if (typeof ack === "function") ack({ ok: false, error: { code, message } });
}

io.on("connection", (socket) => {
  const auth = socket.handshake.auth || {};
  socket.data.sub = typeof auth.sub === "string" ? auth.sub : socket.id;

  socket.on("join", (p, ack) => {
    if (!p || typeof p.room !== "string") return bad(ack, "invalid", "room required");
    socket.join(p.room);
    const r = roomOf(p.room);
    ack({ ok: true, room: { id: p.room, seq: r.seq, queue: r.queue.slice() }, you: { id: socket.data.sub } });
  });

  socket.on("chat.send", (p, ack) => {
    if (!p || typeof p.room !== "string" || typeof p.text !== "string") return bad(ack, "invalid", "bad payload");
    if (!socket.rooms.has(p.room)) return bad(ack, "not_joined", "join first");
    const r = roomOf(p.room);
    const event = {
      room: p.room, seq: ++r.seq, type: "chat.message", at: Date.now(), actor: socket.data.sub,
      data: { id: (++nextId).toString(16), from: socket.data.sub, text: p.text, redacted: false, reply_to: null },
    };
    io.to(p.room).emit("room.event", event);
    ack({ ok: true, event });
  });

  for (const [name, type] of [["hand.raise", "hand.raised"], ["hand.lower", "hand.lowered"]]) {
    socket.on(name, (p, ack) => {
      if (!p || typeof p.room !== "string") return bad(ack, "invalid", "room required");
      if (!socket.rooms.has(p.room)) return bad(ack, "not_joined", "join first");
      const r = roomOf(p.room);
      const pid = socket.data.sub;
      const i = r.queue.indexOf(pid);
      if ((name === "hand.raise") === (i < 0)) {
        if (i < 0) r.queue.push(pid);
        else r.queue.splice(i, 1);
        io.to(p.room).emit("room.event", {
          room: p.room, seq: ++r.seq, type, at: Date.now(), actor: pid,
          data: { participant_id: pid, queue: r.queue.slice() },
        });
      }
      ack({ ok: true, queue: r.queue.slice() });
    });
  }
});

httpServer.listen(port, "127.0.0.1", () => {
  process.stderr.write(`node socket.io ${require("socket.io/package.json").version} on 127.0.0.1:${port}\n`);
});
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    io.close();
    process.exit(0);
  });
}

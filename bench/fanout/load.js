// Load generator for the fan-out benchmark (bench/fanout_bench.py drives it).
//
// One process, websocket transport (the "raw" client by default, or socket.io-client 4.8
// with "client": "sio"; see connectRaw). It connects `rooms` x `members` clients, joins
// each to its room (the first of each room as facilitator), then obeys commands, one JSON
// object per line on stdin, answering one JSON line each on stdout:
//
//   {"cmd": "step", "rate": 900, "warmup": 1, "measure": 3, "drain": 3}
//       every client in turn sends `chat.send` so that `rate` messages per second go
//       out in total; each member of the room receives each one. Reports deliveries,
//       send->receive latency per delivery (p50/p90/p99/max), ack round trips, the
//       server's CPU time over the measured window (from /proc/<pid>/stat) and so
//       deliveries per server CPU-second, this process's own CPU use (to show it is
//       not the bottleneck) and what the rest of the machine used. Afterwards it waits
//       until the server has gone quiet, so a backlog does not spill into the next step.
//   {"cmd": "turns", "rate": 2000, "warmup": 1, "measure": 5}
//       clients alternate `hand.raise` / `hand.lower`; reports ack round trips.
//   {"cmd": "quit"}
//
// Startup: argv[2] is a JSON config {url, secret, rooms, members, prefix, serverPid,
// clkTck, textBytes, warmRooms, client: "raw"|"sio", deflate: bool}. It prints {"event": "warm"} after the first
// `warmRooms` rooms are joined, waits for {"cmd": "continue"}, joins the rest and prints
// {"event": "ready"} (the driver reads the server's RSS at both points).
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const readline = require("readline");
const { io } = require("socket.io-client");
const WebSocket = require("ws");

const cfg = JSON.parse(process.argv[2]);
const members = cfg.members;
const nrooms = cfg.rooms;
const clkTck = cfg.clkTck || 100;

// -- small helpers ---------------------------------------------------------------------------

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function b64url(buf) {
  return Buffer.from(buf).toString("base64").replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

function jwt(claims, secret) {
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify(claims));
  const sig = b64url(crypto.createHmac("sha256", secret).update(`${head}.${body}`).digest());
  return `${head}.${body}.${sig}`;
}

function serverCpuSeconds() {
  const [u, s] = serverCpu();
  return u + s;
}

function serverCpu() {
  const stat = fs.readFileSync(`/proc/${cfg.serverPid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [Number(f[11]) / clkTck, Number(f[12]) / clkTck]; // utime, stime (fields 14, 15)
}

// CPU seconds all CPUs spent busy (user, nice, system, irq, softirq, steal): with the
// server's and our own, it shows how much else was running on the machine.
function machineBusySeconds() {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / clkTck;
}

function serverRssKb() {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${cfg.serverPid}/status`, "utf8"));
  return m ? Number(m[1]) : null;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Latency histogram: 10 microsecond bins up to 5 s, then one overflow bin.
class Hist {
  constructor() {
    this.bins = new Uint32Array(500001);
    this.n = 0;
    this.max = 0;
    this.sum = 0;
  }
  add(ms) {
    if (ms < 0) ms = 0;
    const b = Math.min(500000, Math.floor(ms * 100));
    this.bins[b]++;
    this.n++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }
  pct(p) {
    if (this.n === 0) return null;
    const want = Math.ceil((p / 100) * this.n);
    let acc = 0;
    for (let i = 0; i < this.bins.length; i++) {
      acc += this.bins[i];
      if (acc >= want) return (i + 1) / 100; // upper edge of the bin, in ms
    }
    return this.max;
  }
  summary() {
    const r = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
    return {
      n: this.n, mean: this.n ? r(this.sum / this.n) : null,
      p50: r(this.pct(50)), p90: r(this.pct(90)), p99: r(this.pct(99)), p999: r(this.pct(99.9)), max: r(this.max),
    };
  }
}

// -- the clients -------------------------------------------------------------------------------

const clients = []; // interleaved by room, so round-robin sending spreads over rooms
let tagNow = 0; // the tag the current phase's messages carry (0: not measured)
let delivered = 0; // room.event chat deliveries, any tag
let deliveredTagged = 0; // deliveries of the current measured tag
let otherEvents = 0; // other room.event deliveries (joins, hands)
let lat = new Hist();

let lastEventAt = 0;

// Wait until nothing has arrived for `quietMs` (an overloaded server is still sending its
// backlog: let it finish before the next measurement), `maxMs` at most.
async function settle(quietMs = 250, maxMs = 8000) {
  const t0 = performance.now();
  while (performance.now() - lastEventAt < quietMs && performance.now() - t0 < maxMs) await sleep(20);
}

function onEvent(e) {
  lastEventAt = performance.now();
  if (e.type !== "chat.message") {
    otherEvents++;
    return;
  }
  delivered++;
  const t = e.data.text;
  const bar = t.indexOf("|");
  const tag = Number(t.slice(0, bar));
  if (tag !== 0 && tag === measuredTag) {
    deliveredTagged++;
    lat.add(performance.now() - Number(t.slice(bar + 1, t.indexOf("|", bar + 1))));
  }
}
let measuredTag = -1;

// Two clients speak the same wire protocol (Socket.IO v5 over Engine.IO v4, websocket):
//  - "sio": socket.io-client 4.8 itself;
//  - "raw": the `ws` package with the few framing rules the bench needs (open, connect with
//    auth, ping/pong, event, ack). It does the same work per delivery as socket.io-client
//    (a websocket frame, inflate when the server deflates, JSON.parse) without its layers
//    of emitters, so one core receives several times more: the server, not the
//    generator, should be what saturates.
// Both offer permessage-deflate when connecting, as browsers do (`deflate: false` to not).
function connectSio(roomName, sub, token) {
  return new Promise((resolve, reject) => {
    const socket = io(cfg.url, {
      transports: ["websocket"], forceNew: true, reconnection: false, timeout: 20000,
      auth: { token, sub }, perMessageDeflate: cfg.deflate === false ? false : { threshold: 1024 },
    });
    socket.once("connect", () => resolve({
      room: roomName, sub,
      emit: (event, payload, cb) => socket.timeout(30000).emit(event, payload, cb),
      close: () => socket.disconnect(),
    }));
    socket.once("connect_error", (err) => reject(new Error(`connect ${sub}: ${err.message} ${JSON.stringify(err.data)}`)));
    socket.on("room.event", onEvent);
  });
}

const ROOM_EVENT = '42["room.event",';

function connectRaw(roomName, sub, token) {
  const url = cfg.url.replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket";
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: cfg.deflate !== false });
    const acks = new Map();
    let nextAck = 0;
    const client = {
      room: roomName, sub,
      emit(event, payload, cb) {
        const id = nextAck++;
        acks.set(id, cb);
        ws.send(`42${id}${JSON.stringify([event, payload])}`, { compress: false });
      },
      close: () => ws.close(),
    };
    ws.on("error", (e) => reject(new Error(`connect ${sub}: ${e.message}`)));
    ws.on("message", (buf) => {
      const m = buf.toString();
      if (m.startsWith(ROOM_EVENT)) {
        onEvent(JSON.parse(m.slice(ROOM_EVENT.length, -1)));
      } else if (m.startsWith("43")) {
        const open = m.indexOf("[");
        const id = Number(m.slice(2, open));
        const cb = acks.get(id);
        acks.delete(id);
        if (cb) cb(null, JSON.parse(m.slice(open))[0]);
      } else if (m === "2") {
        ws.send("3");
      } else if (m[0] === "0") {
        ws.send(`40${JSON.stringify({ token, sub })}`);
      } else if (m.startsWith("40")) {
        resolve(client);
      } else if (m.startsWith("44")) {
        reject(new Error(`connect ${sub}: ${m}`));
      } else if (m.startsWith("42")) {
        otherPrivate++;
      }
    });
  });
}
let otherPrivate = 0;

function connectOne(room, index) {
  const roomName = `${cfg.prefix}-${room}`;
  const sub = `b${room}x${index}`;
  const role = index === 0 ? "facilitator" : "member";
  const now = Math.floor(Date.now() / 1000);
  const token = jwt({ sub, name: `Bench ${room} ${index}`, role, room: roomName, iat: now, exp: now + 3600 },
    cfg.secret);
  return (cfg.client === "sio" ? connectSio : connectRaw)(roomName, sub, token);
}

async function joinRooms(from, to) {
  const started = performance.now();
  // The facilitators first (in Circles their join makes the room), then the members.
  for (let index = 0; index < members; index++) {
    const batch = [];
    for (let room = from; room < to; room++) batch.push(connectOne(room, index));
    const conns = await Promise.all(batch);
    await Promise.all(conns.map(async (c) => {
      const ack = await new Promise((resolve, reject) => c.emit("join", { room: c.room }, (err, a) => (err ? reject(err) : resolve(a))));
      if (!ack || !ack.ok) throw new Error(`join ${c.sub}: ${JSON.stringify(ack)}`);
    }));
    clients.push(...conns);
  }
  return performance.now() - started;
}

// -- sending at a fixed rate ---------------------------------------------------------------

const pad = "x".repeat(Math.max(0, (cfg.textBytes || 64) - 24));
let rr = 0;

// Sends `rate` per second for `seconds`, calling `send(client)` for each, round robin.
// Returns how far behind schedule the generator ever fell (messages) and how many it sent.
async function paced(rate, seconds, send) {
  const t0 = performance.now();
  const total = Math.round(rate * seconds);
  let sent = 0;
  let maxBehind = 0;
  while (sent < total) {
    const elapsed = performance.now() - t0;
    const due = Math.min(total, Math.floor((rate * elapsed) / 1000) + 1);
    if (due - sent > maxBehind) maxBehind = due - sent;
    while (sent < due) {
      send(clients[rr]);
      rr = (rr + 1) % clients.length;
      sent++;
    }
    const next = ((sent + 1) * 1000) / rate - (performance.now() - t0);
    await sleep(next > 1 ? Math.min(next, 5) : 1);
  }
  return { sent, maxBehind, seconds: (performance.now() - t0) / 1000 };
}

function ackTracker() {
  const h = new Hist();
  const errors = {};
  let pending = 0;
  return {
    h, errors,
    get pending() { return pending; },
    emit(c, event, payload) {
      const t = performance.now();
      pending++;
      c.emit(event, payload, (err, ack) => {
        pending--;
        if (err) errors.timeout = (errors.timeout || 0) + 1;
        else if (!ack || !ack.ok) {
          const code = (ack && ack.error && ack.error.code) || "bad_ack";
          errors[code] = (errors[code] || 0) + 1;
        } else h.add(performance.now() - t);
      });
    },
  };
}

async function step(cmd) {
  const tag = ++tagNow;
  const acks = ackTracker();
  const text = (tg) => `${tg}|${performance.now().toFixed(3)}|${pad}`;
  // Warm-up at the same rate (tag 0: not measured).
  await paced(cmd.rate, cmd.warmup, (c) => c.emit("chat.send", { room: c.room, text: text(0) }, () => {}));
  measuredTag = tag;
  lat = new Hist();
  deliveredTagged = 0;
  const d0 = delivered;
  const cpu0 = serverCpu();
  const busy0 = machineBusySeconds();
  const own0 = process.cpuUsage();
  const w0 = performance.now();
  const sendInfo = await paced(cmd.rate, cmd.measure, (c) => acks.emit(c, "chat.send", { room: c.room, text: text(tag) }));
  const window = (performance.now() - w0) / 1000;
  const cpu1 = serverCpu();
  const own = process.cpuUsage(own0);
  const busy = machineBusySeconds() - busy0;
  const inWindow = delivered - d0;
  const rss = serverRssKb();
  // Drain: wait for every delivery of the measured messages, up to `drain` seconds.
  const expected = sendInfo.sent * members;
  const dt0 = performance.now();
  while (deliveredTagged < expected && performance.now() - dt0 < cmd.drain * 1000) await sleep(5);
  const drainS = (performance.now() - dt0) / 1000;
  while (acks.pending > 0 && performance.now() - dt0 < cmd.drain * 1000) await sleep(5);
  measuredTag = -1;
  const serverCpuS = cpu1[0] + cpu1[1] - cpu0[0] - cpu0[1];
  if (acks.pending > 0) acks.errors.unanswered = acks.pending;
  await settle();
  out({
    event: "step", rate: cmd.rate, sent: sendInfo.sent, send_rate: sendInfo.sent / sendInfo.seconds,
    gen_max_behind: sendInfo.maxBehind, window_s: window,
    deliveries_in_window: inWindow, delivery_rate: inWindow / window,
    expected, received: deliveredTagged, complete: expected ? deliveredTagged / expected : 1, drain_s: drainS,
    server_cpu_s: serverCpuS, server_cpu_frac: serverCpuS / window, server_sys_frac: (cpu1[1] - cpu0[1]) / window,
    deliveries_per_cpu_s: serverCpuS > 0 ? inWindow / serverCpuS : null,
    gen_cpu_frac: (own.user + own.system) / 1e6 / window, gen_sys_frac: own.system / 1e6 / window,
    others_cpu: (busy - serverCpuS - (own.user + own.system) / 1e6) / window,
    server_rss_kb: rss, latency_ms: lat.summary(), ack_ms: acks.h.summary(), ack_errors: acks.errors,
  });
}

async function turns(cmd) {
  const acks = ackTracker();
  const nextIsRaise = new Map();
  const send = (track) => (c) => {
    const raise = nextIsRaise.get(c) !== false;
    nextIsRaise.set(c, !raise);
    if (track) acks.emit(c, raise ? "hand.raise" : "hand.lower", { room: c.room });
    else c.emit(raise ? "hand.raise" : "hand.lower", { room: c.room }, () => {});
  };
  await paced(cmd.rate, cmd.warmup, send(false));
  const e0 = otherEvents;
  const cpu0 = serverCpuSeconds();
  const own0 = process.cpuUsage();
  const w0 = performance.now();
  const sendInfo = await paced(cmd.rate, cmd.measure, send(true));
  const window = (performance.now() - w0) / 1000;
  const srvCpu = serverCpuSeconds() - cpu0;
  const own = process.cpuUsage(own0);
  const events = otherEvents - e0;
  const dt0 = performance.now();
  while (acks.pending > 0 && performance.now() - dt0 < 5000) await sleep(5);
  if (acks.pending > 0) acks.errors.unanswered = acks.pending;
  // Leave every hand down for whatever comes next.
  const lower = ackTracker();
  for (const c of clients) if (nextIsRaise.get(c) === false) lower.emit(c, "hand.lower", { room: c.room });
  while (lower.pending > 0 && performance.now() - dt0 < 10000) await sleep(5);
  await settle();
  out({
    event: "turns", rate: cmd.rate, sent: sendInfo.sent, send_rate: sendInfo.sent / sendInfo.seconds,
    gen_max_behind: sendInfo.maxBehind, window_s: window, room_events: events,
    server_cpu_s: srvCpu, server_cpu_frac: srvCpu / window, gen_cpu_frac: (own.user + own.system) / 1e6 / window,
    ack_ms: acks.h.summary(), ack_errors: acks.errors,
  });
}

// -- main ------------------------------------------------------------------------------------

async function main() {
  const lines = readline.createInterface({ input: process.stdin });
  const queue = [];
  let wake = null;
  lines.on("line", (l) => {
    if (l.trim()) queue.push(JSON.parse(l));
    if (wake) wake();
  });
  lines.on("close", () => {
    queue.push({ cmd: "quit" });
    if (wake) wake();
  });
  const nextCmd = async () => {
    while (queue.length === 0) await new Promise((r) => { wake = r; });
    wake = null;
    return queue.shift();
  };

  const warmRooms = Math.min(cfg.warmRooms || 1, nrooms);
  const warmMs = await joinRooms(0, warmRooms);
  out({ event: "warm", clients: clients.length, ms: warmMs });
  const c = await nextCmd();
  if (c.cmd !== "continue") process.exit(0);
  const ms = await joinRooms(warmRooms, nrooms);
  // Let the join announcements settle before anyone measures anything.
  await sleep(500);
  out({ event: "ready", clients: clients.length, joined_in_ms: ms, other_events: otherEvents });
  for (;;) {
    const cmd = await nextCmd();
    if (cmd.cmd === "step") await step(cmd);
    else if (cmd.cmd === "turns") await turns(cmd);
    else break;
  }
  for (const cl of clients) cl.close();
  out({ event: "bye" });
  setTimeout(() => process.exit(0), 200);
}

main().catch((e) => {
  out({ event: "error", message: String(e && e.stack ? e.stack : e) });
  process.exit(1);
});

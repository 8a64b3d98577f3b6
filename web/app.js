// Circles in the browser: wires the link, the connection, the room state, the outbox,
// audio and the view together. Everything that changes calls `update()`, which renders
// on the next animation frame.

import { inLanguage, renderAgenda } from "./agenda.js";
import { initAttendance } from "./attendance.js";
import { Audio } from "./audio.js";
import { Connection } from "./connection.js";
import { $ } from "./dom.js";
import { cameBack, goHome, initGroups, isGroupRoom, moveToGroup, renderGroupBanner, renderGroupTools } from "./groups.js";
import { pickLanguage, roughly, setLanguage, t } from "./i18n.js";
import { inviteCode, publicRoom, showDoor, showInvite, wakeAt, when } from "./invite.js";
import { arrivalFor, chosenArrival, initService, rememberArrival } from "./services.js";
import { readLink } from "./link.js";
import { Outbox } from "./outbox.js";
import { settingsChanges, fillSettings, waitedText } from "./staff.js";
import { RoomState } from "./state.js";
import { isStaff, nameOf, render, renderFloor, renderOncallWait } from "./view.js";

// A circle that is not open yet (or is reopening after a server restart) is asked
// again this often.
const REJOIN_MS = 2500;
// Small notes ("Settings saved.") fade after this long.
const FLASH_MS = 6000;
// Facilitators keep this many alerts on screen.
const ALERTS_KEPT = 50;

const link = readLink();
const state = new RoomState();
const ui = {
  screen: "notice",
  notice: null,
  started: false,
  connected: false,
  stopped: false,
  moving: false, // the server said it is restarting: the next disconnect is a move
  waiting: false, // in the lobby
  joined: false,
  joining: false,
  serverStatus: "ok", // "degraded" while the server says it lost its store (server.status)
  roomNote: null,
  crisis: null,
  oncallSince: 0, // when this person first joined the on-call room (ms)
  moved: null,
  alerts: [],
  pages: new Map(),
  duty: "off",
  dutyTouched: false,
  settingsDirty: false,
  accepted: false, // the room's guidelines, accepted on this page
  overtime: null, // the part whose planned time staff were told is up (format.overtime)
};
const ctx = {
  state, ui, token: link.token, claims: link.claims,
  me: { id: link.claims ? link.claims.sub : "", role: link.claims ? link.claims.role : "member" },
  outbox: null, audio: null, conn: null,
};

let frame = 0;
function update() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    syncAudio(); // first: what is drawn must follow who may be heard now
    render(ctx);
  });
}

let announceTimer = 0;
function announce(text) {
  const el = $("announcer");
  el.textContent = "";
  clearTimeout(announceTimer);
  // A fresh text node after a tick is announced even when the words repeat; it is
  // cleared again so a screen reader's review cursor does not find stale news.
  announceTimer = setTimeout(() => {
    el.textContent = text;
    announceTimer = setTimeout(() => { el.textContent = ""; }, 5000);
  }, 50);
}

let flashTimer = 0;
/** A short note at the bottom of the screen ("Settings saved.", "That didn't work…"). */
function flash(key, params) {
  const el = $("flash");
  el.textContent = t(key, params);
  el.classList.add("on");
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => {
    el.textContent = "";
    el.classList.remove("on");
  }, FLASH_MS);
}

function errorText(err) {
  const code = err && err.code;
  const key = "err_" + code;
  return t(key) !== key ? t(key) : t("err_default");
}

function notice(title, text, actions = [], calm = false, params = {}) {
  ui.screen = "notice";
  ui.notice = { title, text, actions, calm, params };
  update();
  requestAnimationFrame(() => $("notice-title").focus());
}

// -- start ------------------------------------------------------------------------------

setLanguage(pickLanguage());

function badLink() {
  const text = { no_token: "no_link_text", bad_token: "bad_link_text", no_room: "no_room_text" }[link.error];
  notice(link.error === "no_token" ? "no_link_title" : "bad_link_title", text);
}

const invite = inviteCode();
const door = publicRoom();
if (invite) {
  showInvite(invite);
} else if (door) {
  showDoor(door).then((shown) => { if (!shown) badLink(); });
} else if (link.error) {
  badLink();
} else {
  start();
}

function start() {
  ui.started = true;
  ctx.outbox = new Outbox({
    send: (item) => ctx.conn.call("chat.send", { room: link.room, text: item.text, client_id: item.client_id }),
    canSend: () => ui.joined && ctx.conn.connected,
    onChange: update,
  });
  ctx.audio = new Audio({ call: (e, p) => ctx.conn.call(e, p), onChange: update, element: $("remote-audio") });
  ctx.conn = new Connection(credential, {
    connect: onConnect,
    disconnect: onDisconnect,
    connectError: onConnectError,
    roomEvent: onRoomEvent,
    notice: onNotice,
  });
  notice("connecting_title", "connecting_text");
  setInterval(tick, 1000);
}

// -- connection ---------------------------------------------------------------------------

function onConnect() {
  ui.connected = true;
  ui.moving = false;
  ui.stopped = false;
  join();
  if (ui.duty === "on") setDuty(true);
  update();
}

function onDisconnect() {
  ui.connected = false;
  ui.serverStatus = "ok"; // a new connection's server says again if it is unsteady
  ui.joined = false;
  if (ctx.audio.status !== "unavailable") {
    ctx.audio.stopPeer();
    ctx.audio.status = "off";
  }
  update();
}

function onConnectError(data) {
  if (!data) { update(); return; } // the network: Socket.IO tries again by itself
  if (data.code === "unavailable") {
    // A server on its way out (a restart): knock again; the next one takes us.
    ui.moving = true;
    ctx.conn.comeBack();
    update();
    return;
  }
  ctx.conn.stop();
  ui.stopped = true;
  if (data.code === "expired") notice("expired_title", "expired_text");
  else if (data.code === "rate_limited") {
    notice("busy_title", "busy_text", [{ action: "rejoin", label: "try_again", primary: true }], true);
  } else notice("bad_link_title", "unauthorized_text");
}

let rejoinTimer = 0;
function rejoinSoon() {
  clearTimeout(rejoinTimer);
  rejoinTimer = setTimeout(() => { if (ui.connected && !ui.joined) join(); }, REJOIN_MS);
}

async function join() {
  if (ui.joining || !ctx.conn.connected) return;
  ui.joining = true;
  const payload = { room: link.room };
  if (state.loaded && state.id === link.room) payload.since = state.seq;
  // The way in, once given on this page: the guidelines accepted, new or coming back.
  if (ui.accepted) payload.accept = true;
  const arrival = arrivalFor(link.room);
  if (arrival) payload.arrival = arrival;
  const ack = await ctx.conn.call("join", payload);
  ui.joining = false;
  if (ack.ok) joined(ack);
  else refused({ ...ack.error, opens_at: ack.opens_at, consent: ack.consent });
}

/** The circle asks for its guidelines to be accepted: show them, then join. */
function askConsent() {
  ui.screen = "consent";
  update();
  requestAnimationFrame(() => $("consent-title").focus());
}

$("consent").addEventListener("submit", (e) => {
  e.preventDefault();
  ui.accepted = true;
  rememberArrival(link.room, chosenArrival("consent-arrival"));
  ui.screen = "notice";
  ui.notice = { title: "connecting_title", text: "connecting_text", actions: [] };
  update();
  join();
});

// -- session continuity: a meeting in progress outlives its link ----------------------------

// Renew the session this long before the link or the session runs out.
const RENEW_BEFORE_MS = 5 * 60 * 1000;
const sessionKey = "circles.session." + (link.room || "");
let renewTimer = 0;

function session() {
  try {
    const s = JSON.parse(sessionStorage.getItem(sessionKey) || "null");
    return s && s.token && s.expires_at * 1000 > Date.now() + 5000 ? s : null;
  } catch {
    return null;
  }
}

function keepSession(s) {
  if (!s || !s.token) return;
  sessionStorage.setItem(sessionKey, JSON.stringify({ token: s.token, expires_at: s.expires_at }));
  scheduleRenew();
}

/** The credential to connect with: the link while it lasts, then the session. */
function credential() {
  const exp = ctx.claims && ctx.claims.exp ? ctx.claims.exp * 1000 : Infinity;
  const s = session();
  return s && exp < Date.now() + 60000 ? s.token : link.token;
}

function scheduleRenew() {
  clearTimeout(renewTimer);
  const s = session();
  if (!s) return;
  const linkExp = ctx.claims && ctx.claims.exp ? ctx.claims.exp * 1000 : Infinity;
  const due = Math.min(linkExp, s.expires_at * 1000) - RENEW_BEFORE_MS;
  renewTimer = setTimeout(renew, Math.max(1000, Math.min(due - Date.now(), 2 ** 31 - 1)));
}

async function renew() {
  if (!ui.joined) { scheduleRenew(); return; }
  const ack = await ctx.conn.call("session.renew", { room: link.room });
  if (ack.ok) keepSession(ack);
  else setTimeout(renew, 30000); // offline or busy: try again soon
}

function joined(ack) {
  keepSession(ack.session);
  if (typeof ack.now === "number") state.observeClock(ack.now); // the server's clock, for the timers shown
  if (Array.isArray(ack.ice_servers)) ctx.audio.iceServers = ack.ice_servers;
  const snap = ack.room;
  const had = state.loaded && state.id === snap.id;
  const prevHolder = state.holder();
  if (!had || snap.reset) {
    state.loadSnapshot(snap);
    // A first welcome for whoever said they are new or coming back (never asked why).
    const arrival = had ? null : arrivalFor(link.room);
    ui.roomNote = had ? "room_reset" : cameBack(link.room) ? "grp_all_back"
      : arrival ? "arrival_welcome_" + arrival : null;
  } else {
    for (const ev of ack.missed || []) state.apply(ev);
    state.adoptStructure(snap);
    ui.roomNote = null;
  }
  if (ack.you) state.putParticipant(ack.you);
  const first = ui.screen !== "room";
  ui.screen = "room";
  ui.joined = true;
  if (state.kind === "oncall" && !ui.oncallSince) {
    // How long this person has waited, across reloads of the page.
    const key = "circles.oncall." + link.room;
    ui.oncallSince = Number(sessionStorage.getItem(key)) || Date.now();
    sessionStorage.setItem(key, String(ui.oncallSince));
  }
  ui.waiting = false;
  if (had && prevHolder !== state.holder()) announceFloor();
  ctx.outbox.resume();
  if (ctx.audio.status !== "unavailable") ctx.audio.start(link.room);
  update();
  // Entering the room from a notice screen: start a screen reader at the top.
  if (first) requestAnimationFrame(() => $("room-title").focus({ preventScroll: true }));
}

function refused(err) {
  const code = err.code;
  ui.waiting = false;
  if (code === "lobby") {
    ui.waiting = true;
    notice("lobby_title", "lobby_text", [], true);
  } else if (code === "not_found") {
    if (state.loaded) {
      // The server lost the room (a restart of a one-process server): it comes back
      // when a facilitator rejoins. Keep the page as it is and knock again.
      ui.roomNote = "room_reopening";
      update();
    } else {
      notice("not_found_title", "not_found_text", [], true);
    }
    rejoinSoon();
  } else if (code === "offline" || code === "timeout" || code === "unavailable" || code === "internal"
    || code === "conflict" || code === "rate_limited") {
    rejoinSoon();
  } else if (code === "banned") {
    notice("banned_title", "banned_text");
  } else if (code === "expired") {
    notice("expired_title", "expired_text");
  } else if (code === "locked" && err.opens_at) {
    // A scheduled circle between meetings: say when it opens, and come in then.
    notice("closed_title", "closed_text", [{ action: "retry-join", label: "try_again" }], true,
      { opens: when(err.opens_at) });
    wakeAt(err.opens_at, () => join());
  } else if (code === "locked" || code === "full") {
    notice(code + "_title", code + "_text", [{ action: "retry-join", label: "try_again", primary: true }]);
  } else if (code === "forbidden" && err.consent) {
    askConsent();
  } else if (code === "forbidden") {
    notice("forbidden_title", "forbidden_text");
  } else {
    notice("error_title", "error_text", [{ action: "retry-join", label: "try_again", primary: true }]);
  }
}

function onRoomEvent(ev) {
  if (!ev || ev.room !== link.room || !state.loaded) return;
  const prevHolder = state.holder();
  const result = state.apply(ev);
  if (result === "gap") { join(); return; }
  if (result !== "applied") return;
  state.observeClock(ev.at);
  if (prevHolder !== state.holder()) announceFloor();
  if (ev.type === "floor.warning" && ev.data.participant_id === ctx.me.id) {
    announce(t("warn_you", { time: roughly(ev.data.remaining_ms || 0) }));
  }
  if (ev.type.startsWith("format.")) onFormatEvent(ev);
  if (ev.type === "groups.ending") announce(t("grp_one_minute"));
  if (ev.type === "groups.ended") ui.roomNote = "grp_all_back";
  if (ev.type === "room.ended" && isGroupRoom(state)) {
    backToCircle();
    return;
  }
  if (ev.type === "room.ended") {
    const wasPrivate = !!state.parent;
    finish();
    if (wasPrivate) notice("private_ended_title", "private_ended_text", [], true);
    else notice("ended_title", "ended_text");
    return;
  }
  update();
}

// -- the meeting format ----------------------------------------------------------------------

let formatReading = false;
/** The format changed (a new one was set): read it, readings and all, from the server. */
async function refreshFormat() {
  if (formatReading) return;
  formatReading = true;
  const ack = await ctx.conn.call("format.get", { room: link.room });
  formatReading = false;
  if (ack.ok) {
    state.format = ack.format ? { ...ack.format } : null;
    state.formatStale = false;
    update();
  } else if (ui.joined) {
    setTimeout(() => { if (state.formatStale) refreshFormat(); }, REJOIN_MS);
  }
}

function onFormatEvent(ev) {
  if (state.formatStale) refreshFormat();
  const part = state.currentPart();
  if (ev.type === "format.started" || ev.type === "format.segment") {
    ui.overtime = null;
    if (part) announce(t("fmt_now", { title: inLanguage(part.title)[0] }));
  } else if (ev.type === "format.free") {
    ui.overtime = null;
    announce(`${t("fmt_free")}: ${t("fmt_free_text")}`);
  } else if (ev.type === "format.ended") {
    ui.overtime = null;
    flash("fmt_ended");
    announce(t("fmt_ended"));
  } else if (ev.type === "format.milestones") {
    $("milestone-form").closest("details").open = true;
  }
}

async function formatAction(event) {
  const payload = {};
  const reader = $("agenda-reader").value;
  if (!$("agenda-reader-field").hidden && reader) payload.reader = reader;
  const ack = await act(event, payload);
  if (ack.ok) $("agenda-reader").value = "";
  return ack;
}

$("btn-fmt-start").addEventListener("click", async () => {
  const ack = await formatAction("format.start");
  if (ack.ok) focusLater("btn-fmt-next", "btn-fmt-end");
});
$("btn-fmt-next").addEventListener("click", async () => {
  const ack = await formatAction("format.advance");
  if (ack.ok) focusLater("btn-fmt-next", "btn-fmt-end");
});
$("btn-fmt-end").addEventListener("click", async () => {
  const answer = await ask({ title: t("fmt_confirm_end_title"), text: t("fmt_confirm_end_text"),
    ok: t("fmt_confirm_end_ok") });
  if (answer.ok) {
    const ack = await act("format.end", {});
    if (ack.ok) focusLater("btn-fmt-start");
  }
});

function announceFloor() {
  const holder = state.holder();
  if (!holder) announce(t("announce_floor_free"));
  else if (holder === ctx.me.id) announce(t("announce_floor_you"));
  else announce(t("announce_floor_other", { name: nameOf(ctx, holder) }));
}

/** This page's small group is over: back to the circle, or (a facilitator's tab looking
 * in, with no way back of its own) say so. */
function backToCircle() {
  const parent = state.parent;
  finish();
  if (goHome(parent)) notice("grp_going_back", "connecting_text", [], true);
  else notice("grp_ended_title", "grp_ended_text", [], true);
}

/** The room a notice is about, as this page sees it. */
function noticeRoom(event, data) {
  // Moves are named by the room they leave; a group's end by the circle it returns to;
  // an alert from one of this circle's small groups is the circle's business.
  if (event === "oncall.moved" || event === "groups.moved") return data.from_room;
  if (event === "groups.returned" && data.room === state.parent) return link.room;
  if (event === "moderation.alert" && state.groups && state.groups.groups.some((g) => g.room === data.room)) {
    return link.room;
  }
  return data.room;
}

function onNotice(event, data) {
  // Notices about this room only; pages (any room) and moves (named by from_room) aside.
  const about = noticeRoom(event, data);
  if (about && about !== link.room && event !== "oncall.page" && event !== "oncall.resolved") return;
  switch (event) {
    case "server.draining":
      // The server is restarting: the disconnect that follows is a move, not a fault.
      ui.moving = true;
      break;
    case "lobby.waiting":
      state.lobby.set(data.participant.id, data.participant);
      state.names.set(data.participant.id, data.participant.name);
      break;
    case "lobby.list":
      // Given the greeter's service (or no longer): who waits now.
      state.lobby = new Map(data.lobby.map((p) => [p.id, p]));
      for (const p of data.lobby) state.names.set(p.id, p.name);
      break;
    case "participant.arrival":
      state.arrivals.set(data.participant_id, data.arrival);
      break;
    case "lobby.left":
      state.lobby.delete(data.participant_id);
      break;
    case "lobby.admitted":
      join();
      break;
    case "lobby.denied":
      ui.waiting = false;
      notice("denied_title", "denied_text", [{ action: "retry-join", label: "try_again" }]);
      break;
    case "chat.held":
      state.held.set(data.id, data);
      break;
    case "chat.reviewed":
      if (!ctx.outbox.reviewed(data.approved)) flash("held_rejected");
      break;
    case "moderation.alert":
      ui.alerts.unshift({ ...data, key: "a" + Date.now() + Math.random() });
      ui.alerts.length = Math.min(ui.alerts.length, ALERTS_KEPT);
      announce(`${t("alerts_title")}: ${t("alert_" + data.kind) !== "alert_" + data.kind ? t("alert_" + data.kind) : data.kind}`);
      break;
    case "crisis.offer":
      ui.crisis = data;
      announce(t("crisis_title"));
      requestAnimationFrame(() => $("crisis").scrollIntoView({ block: "nearest", behavior: "smooth" }));
      break;
    case "oncall.page": {
      const key = data.room + "/" + data.participant_id;
      ui.pages.set(key, { key, room: data.room, participant: data.participant_id, since: data.waiting_since,
        tier: data.tier || 1, reason: data.reason });
      announce(t("page_item", { room: data.room }));
      break;
    }
    case "oncall.resolved":
      // Answered by a responder, or the person left: the page is no longer waiting.
      ui.pages.delete(data.room + "/" + data.participant_id);
      break;
    case "oncall.moved":
      ui.moved = { room: data.room, token: data.token };
      announce(t("moved_title"));
      requestAnimationFrame(() => $("moved").scrollIntoView({ block: "nearest", behavior: "smooth" }));
      break;
    case "format.overtime":
      ui.overtime = data.index;
      flash("fmt_overtime");
      break;
    case "server.status":
      // This worker lost (or got back) its store. Messages are kept and retried by the
      // outbox; if it lasts, the server closes the socket and we come back elsewhere.
      ui.serverStatus = data.state;
      break;
    case "rtc.restart":
      ctx.audio.restart();
      break;
    case "oncall.returned":
      ui.moved = null;
      ui.roomNote = "returned_note";
      break;
    case "groups.moved":
      // To the group now; the way back waits in this tab.
      finish();
      notice("grp_moving", "connecting_text", [], true);
      moveToGroup(link, data);
      return;
    case "groups.returned":
      if (isGroupRoom(state)) {
        backToCircle();
        return;
      }
      ui.roomNote = "grp_all_back";
      break;
    case "removed":
      finish();
      if (data.reason === "replaced") {
        notice("replaced_title", "replaced_text", [{ action: "use-here", label: "use_here", primary: true }]);
      } else if (data.banned) {
        notice("banned_title", "banned_text");
      } else {
        notice("removed_title", "removed_text");
      }
      return;
    default:
      break;
  }
  update();
}

/** Stop talking to the server (left, removed, ended). The outbox stays in memory. */
function finish() {
  ui.joined = false;
  ui.waiting = false;
  ui.stopped = true;
  ctx.audio.close();
  ctx.conn.stop();
}

function restart() {
  state.clear();
  ui.roomNote = null;
  ui.crisis = null;
  notice("connecting_title", "connecting_text");
  if (ctx.conn.connected) join();
  else ctx.conn.start();
}

async function leave() {
  if (ctx.conn.connected && (ui.joined || ui.waiting)) await ctx.conn.call("leave", { room: link.room }, 3000);
  finish();
  notice("left_title", "left_text", [{ action: "rejoin", label: "rejoin", primary: true }]);
}

// -- actions ---------------------------------------------------------------------------

async function act(event, payload, okNote) {
  const ack = await ctx.conn.call(event, { room: link.room, ...payload });
  if (!ack.ok) flash("action_failed", { message: errorText(ack.error) });
  else if (okNote) flash(okNote);
  update();
  return ack;
}

function syncAudio() {
  if (!ctx.audio) return; // no link, or a bad one: no audio at all
  const me = state.participants.get(ctx.me.id);
  const allowed = !!me && !me.muted
    && (state.holder() === ctx.me.id || isStaff(ctx) || state.settings.audio === "open");
  ctx.audio.setAllowed(allowed);
}

async function setDuty(on) {
  const ack = await ctx.conn.call("oncall.duty", { on });
  ui.dutyTouched = true;
  if (ack.ok) {
    ui.duty = on ? "on" : "off";
    for (const w of ack.waiting || []) {
      const key = w.room + "/" + w.participant;
      ui.pages.set(key, { key, room: w.room, participant: w.participant, since: w.since, tier: w.tier || 1,
        reason: w.reason || "joined" });
    }
  } else if (ack.error && ack.error.code === "unavailable") {
    ui.duty = "unavailable";
  } else {
    flash("action_failed", { message: errorText(ack.error) });
  }
  update();
}

function ask({ title, text, ok, input }) {
  const dlg = $("dialog");
  $("dialog-title").textContent = title;
  $("dialog-text").textContent = text || "";
  $("dialog-ok").textContent = ok;
  $("dialog-field").hidden = !input;
  $("dialog-label").textContent = input || "";
  $("dialog-input").value = "";
  return new Promise((resolve) => {
    const done = (value) => {
      dlg.removeEventListener("close", onClose);
      resolve(value);
    };
    const onClose = () => done(dlg.returnValue === "ok" ? { ok: true, value: $("dialog-input").value.trim() } : { ok: false });
    dlg.addEventListener("close", onClose);
    dlg.returnValue = "";
    dlg.showModal();
    (input ? $("dialog-input") : $("dialog-cancel")).focus();
  });
}
$("dialog-ok").addEventListener("click", () => $("dialog").close("ok"));
$("dialog-cancel").addEventListener("click", () => $("dialog").close("cancel"));
$("dialog-form").addEventListener("submit", (e) => {
  e.preventDefault();
  $("dialog").close("ok");
});

function keyOf(target) {
  const li = target.closest("[data-key]");
  return li ? li.dataset.key : null;
}

// The floor and my hand.
$("btn-raise").addEventListener("click", async () => {
  const ack = await act("hand.raise", {});
  if (ack.ok) focusLater("btn-lower", "btn-yield");
});
$("btn-lower").addEventListener("click", async () => {
  const ack = await act("hand.lower", {});
  if (ack.ok) focusLater("btn-raise");
});
$("btn-yield").addEventListener("click", async () => {
  const ack = await act("floor.yield", {});
  if (ack.ok) focusLater("btn-raise");
});
$("btn-pass").addEventListener("click", async () => {
  const ack = await act("floor.pass", {});
  if (ack.ok) focusLater("btn-raise");
});

/** After a button hides itself, keep keyboard focus nearby. */
function focusLater(...ids) {
  requestAnimationFrame(() => requestAnimationFrame(() => {
    if (document.activeElement && document.activeElement !== document.body && !document.activeElement.hidden
      && document.activeElement.offsetParent !== null) return;
    for (const id of ids) {
      const el = $(id);
      if (!el.hidden) { el.focus(); return; }
    }
  }));
}

// Chat.
$("chat-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $("chat-input");
  const text = input.value.trim();
  if (!text) return;
  ctx.outbox.add(text);
  input.value = "";
  input.focus();
});
$("chat-input").addEventListener("keydown", (e) => {
  // Enter sends, Shift+Enter starts a new line. Not while an input method (Hindi or
  // Punjabi typing) is composing a character.
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    $("chat-form").requestSubmit();
  }
});
$("outbox").addEventListener("click", (e) => {
  const btn = e.target.closest("[data-action]");
  if (!btn) return;
  const id = keyOf(btn);
  if (btn.dataset.action === "retry") ctx.outbox.retry(id);
  if (btn.dataset.action === "discard") ctx.outbox.discard(id);
});
$("chat-log").addEventListener("click", async (e) => {
  const btn = e.target.closest("[data-action]");
  if (!btn) return;
  const seq = parseInt((keyOf(btn) || "").slice(1), 10);
  if (!seq) return;
  if (btn.dataset.action === "delete") {
    act("chat.delete", { seq });
  } else if (btn.dataset.action === "report") {
    const entry = state.log.find((x) => x.seq === seq);
    const answer = await ask({ title: t("report_title"), text: t("report_text"), ok: t("report_send"),
      input: t("report_reason") });
    if (answer.ok) {
      const payload = { seq, reason: answer.value || t("report") };
      if (entry && state.participants.has(entry.from)) payload.participant = entry.from;
      act("report", payload, "report_sent");
    }
  }
});
for (const btn of document.querySelectorAll("[data-reaction]")) {
  btn.addEventListener("click", () => act("reaction.send", { kind: btn.dataset.reaction }));
}
$("milestone-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = $("milestone-days");
  const n = parseInt(input.value, 10);
  if (!(n >= 1 && n <= 36500)) { input.focus(); return; }
  const note = $("milestone-note").value.trim();
  const ack = await act("milestone.share", note ? { days: n, note } : { days: n });
  if (ack.ok) {
    input.value = "";
    $("milestone-note").value = "";
  }
});

// Audio.
$("btn-mic").addEventListener("click", () => ctx.audio.enableMic());
$("btn-selfmute").addEventListener("click", () => ctx.audio.toggleSelfMute());
$("btn-hear").addEventListener("click", () => ctx.audio.resumePlayback());

// People (facilitator actions per person).
$("participants").addEventListener("click", async (e) => {
  const btn = e.target.closest("[data-action]");
  if (!btn) return;
  const pid = keyOf(btn);
  const name = nameOf(ctx, pid);
  switch (btn.dataset.action) {
    case "give": act("floor.grant", { participant: pid }); break;
    case "mute": act("participant.mute", { participant: pid, muted: true }); break;
    case "unmute": act("participant.mute", { participant: pid, muted: false }); break;
    case "remove": {
      const answer = await ask({ title: t("confirm_remove_title", { name }), text: t("confirm_remove_text", { name }),
        ok: t("confirm_remove_ok") });
      if (answer.ok) act("participant.remove", { participant: pid });
      break;
    }
    case "private": act("oncall.private", { participant: pid }); break;
    case "ban": {
      const answer = await ask({ title: t("confirm_ban_title", { name }), text: t("confirm_ban_text", { name }),
        ok: t("confirm_ban_ok") });
      if (answer.ok) act("participant.remove", { participant: pid, ban: true });
      break;
    }
    default: break;
  }
});
$("queue").addEventListener("click", (e) => {
  const btn = e.target.closest("[data-action]");
  if (!btn) return;
  const pid = keyOf(btn);
  const i = state.queue.indexOf(pid);
  if (i < 0) return;
  const index = btn.dataset.action === "up" ? i - 1 : i + 1;
  if (index < 0 || index >= state.queue.length) return;
  act("queue.move", { participant: pid, index });
});
$("lobby").addEventListener("click", async (e) => {
  const btn = e.target.closest("[data-action]");
  if (!btn) return;
  const pid = keyOf(btn);
  const ack = await act(btn.dataset.action === "admit" ? "lobby.admit" : "lobby.deny", { participant: pid });
  if (ack.ok || (ack.error && ack.error.code === "not_found")) state.lobby.delete(pid);
  update();
});
$("held").addEventListener("click", async (e) => {
  const btn = e.target.closest("[data-action]");
  if (!btn) return;
  const id = keyOf(btn);
  const ack = await act("chat.review", { id, approve: btn.dataset.action === "approve" });
  if (ack.ok || (ack.error && ack.error.code === "not_found")) state.held.delete(id);
  update();
});
$("alerts").addEventListener("click", (e) => {
  const btn = e.target.closest("[data-action]");
  if (!btn) return;
  const key = keyOf(btn);
  ui.alerts = ui.alerts.filter((a) => a.key !== key);
  update();
});
$("btn-revoke").addEventListener("click", () => act("floor.revoke", {}));
$("btn-round-start").addEventListener("click", () => act("round.start", {}));
$("btn-round-stop").addEventListener("click", () => act("round.stop", {}));
$("btn-private-end").addEventListener("click", () => act("oncall.return", {}));
// A facilitator hands a member a service for this meeting (or takes it back).
$("participants").addEventListener("change", (e) => {
  const select = e.target.closest("select[data-action=service]");
  if (select) act("participant.service", { participant: keyOf(select), service: select.value || null });
});
initService(ctx, act);
initGroups(ctx, { act, update, flash, errorText });
$("btn-end").addEventListener("click", async () => {
  const answer = await ask({ title: t("confirm_end_title"), text: t("confirm_end_text"), ok: t("confirm_end_ok") });
  if (answer.ok) act("room.end", {});
});

// Settings.
const settingsForm = $("settings-form");
settingsForm.addEventListener("input", () => { ui.settingsDirty = true; });
$("set-untimed").addEventListener("change", () => { $("set-share").disabled = $("set-untimed").checked; });
settingsForm.closest("details").addEventListener("toggle", () => {
  ui.settingsDirty = false;
  fillSettings(state.settings, "");
});
settingsForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const changes = settingsChanges(state.settings);
  const status = $("settings-status");
  if (Object.keys(changes).length === 0) {
    status.textContent = t("settings_saved");
    return;
  }
  const ack = await ctx.conn.call("room.settings", { room: link.room, ...changes });
  if (ack.ok) {
    ui.settingsDirty = false;
    if (ack.settings) state.settings = { ...ack.settings };
    status.textContent = t("settings_saved");
  } else {
    status.textContent = t("settings_failed", { message: errorText(ack.error) });
  }
  update();
});

// On-call.
$("btn-duty").addEventListener("click", () => setDuty(ui.duty !== "on"));
$("pages").addEventListener("click", (e) => {
  const btn = e.target.closest("[data-action]");
  if (!btn) return;
  ui.pages.delete(keyOf(btn));
  update();
});

// Crisis panel, notices, header.
$("moved-close").addEventListener("click", () => {
  ui.moved = null;
  update();
});
$("attention-show").addEventListener("click", () => {
  const list = $("alerts").children.length ? $("alerts") : $("lobby");
  list.scrollIntoView({ block: "start" });
  const first = list.querySelector("button");
  if (first) first.focus({ preventScroll: true });
});
$("crisis-close").addEventListener("click", () => {
  ui.crisis = null;
  update();
  (ui.screen === "room" ? $("chat-input") : $("help")).focus();
});
// "Need help now?": from the server when connected (with the way into the on-call room),
// else the public helplines: a bad or expired link must not stand between anyone and help.
$("help").addEventListener("click", async () => {
  let offer = null;
  if (ctx.conn && ctx.conn.connected && link.room) {
    const ack = await ctx.conn.call("help.offer", { room: link.room });
    if (ack.ok) offer = ack;
  }
  if (!offer) {
    try {
      const lines = await (await fetch("/api/help")).json();
      offer = { helplines: [...lines.helplines, lines.emergency], oncall_room: null };
    } catch {
      offer = { helplines: [], oncall_room: null };
    }
  }
  ui.crisis = offer;
  update();
  requestAnimationFrame(() => {
    $("crisis").scrollIntoView({ block: "nearest" });
    $("crisis-title").focus({ preventScroll: true });
  });
});
$("notice-actions").addEventListener("click", (e) => {
  const btn = e.target.closest("[data-action]");
  if (!btn) return;
  const action = btn.dataset.action;
  if (action === "rejoin" || action === "use-here") {
    ui.stopped = false;
    restart();
  } else if (action === "retry-join") {
    notice("connecting_title", "connecting_text");
    join();
  }
});
$("leave").addEventListener("click", leave);
const attendance = initAttendance(
  (event, payload) => (ctx.conn ? ctx.conn.call(event, payload) : Promise.resolve(null)), ask, flash);
$("lang").addEventListener("change", (e) => {
  setLanguage(e.target.value, true);
  attendance.redraw();
  update();
});

function tick() {
  if (ui.screen !== "room") return;
  if (state.kind === "oncall") renderOncallWait(ctx);
  if (state.floor) renderFloor(ctx);
  if (state.format && state.format.running) renderAgenda(ctx);
  if (state.groups || state.endsAt) {
    renderGroupBanner(ctx);
    if (isStaff(ctx)) renderGroupTools(ctx);
  }
  if (ui.pages.size) {
    for (const li of $("pages").children) {
      const page = ui.pages.get(li.dataset.key);
      const line = li.querySelector(".quiet");
      if (page && line) {
        const text = waitedText(state.now() - page.since) + (page.tier > 1 ? " · " + t("page_urgent") : "");
        if (line.textContent !== text) line.textContent = text;
      }
    }
  }
}

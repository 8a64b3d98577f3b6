// Rendering: the page as a function of the room state and the client's own state.
//
// `render(ctx)` may run as often as anything changes; lists are reconciled by key so
// focus and scroll positions stay where the person left them.

import { formatNote, renderAgenda, renderReading } from "./agenda.js";
import { $, clock, h, hue, reconcile, setText, show } from "./dom.js";
import { groupOf, isGroupRoom, renderGroupBanner } from "./groups.js";
import { days, language, ordinal, t, translatePage } from "./i18n.js";
import { linkTo } from "./link.js";
import { arrivalTag, mayGiveFloor, myService, renderService, serviceBadge, serviceSelect } from "./services.js";
import { renderStaff, renderResponder } from "./staff.js";

export const REACTIONS = [
  ["clap", "👏"], ["heart", "💚"], ["support", "🤝"], ["thanks", "🙏"], ["strength", "💪"],
];
const EMOJI = Object.fromEntries(REACTIONS);

// The chat log sticks to the newest message while the reader is within this many
// pixels of the bottom; further up, they are reading back and we leave them be.
const STICK_PX = 80;

export function nameOf(ctx, id) {
  return ctx.state.nameOf(id) || t("someone");
}

/** A responder's private 1:1 room, opened from an on-call room (ids the server gives them). */
export function isPrivateRoom(state) {
  return state.kind === "oncall" && state.id.startsWith("private-");
}

/** A room a facilitator's join made has its id for a title: "tuesday-circle" reads "Tuesday circle".
 * A small group of such a circle goes by the circle's name. */
function displayTitle(state) {
  if (state.title !== state.id) return state.title;
  const id = isGroupRoom(state) ? state.parent : state.id;
  const words = id.replace(/-/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function isStaff(ctx) {
  const role = ctx.me.role;
  return role === "facilitator" || (role === "responder" && ctx.state.kind === "oncall");
}

export function render(ctx) {
  const { ui } = ctx;
  renderHeader(ctx);
  renderCrisis(ctx); // help is in reach on every screen, in the room or not
  const inRoom = ui.screen === "room";
  const consent = ui.screen === "consent";
  show($("consent"), consent);
  show($("notice"), !inRoom && !consent);
  show($("room"), inRoom);
  if (!inRoom) {
    if (!consent) renderNotice(ctx);
    return;
  }
  renderNotes(ctx);
  renderOncallWait(ctx);
  renderAttention(ctx);
  renderMoved(ctx);
  renderAgenda(ctx);
  renderReading(ctx);
  renderGroupBanner(ctx);
  renderFloor(ctx);
  renderAudio(ctx);
  renderChat(ctx);
  renderPeople(ctx);
  // Responders always have the on-call panel; anyone else (a facilitator, paged at
  // tier 2 when nobody has answered) sees it while a page is waiting.
  const onCall = ctx.me.role === "responder" || ui.pages.size > 0;
  $("room").classList.toggle("with-tools", isStaff(ctx) || onCall || !!myService(ctx));
  renderService(ctx, isStaff(ctx));
  show($("staff"), isStaff(ctx));
  if (isStaff(ctx)) renderStaff(ctx);
  show($("responder"), onCall);
  if (onCall) renderResponder(ctx);
}

function renderHeader(ctx) {
  const { ui, state } = ctx;
  const title = state.loaded ? displayTitle(state) : "Circles";
  setText($("room-title"), title);
  document.title = state.loaded ? `${title} · Circles` : "Circles";
  let status = "";
  if (ui.started && !ui.connected && !ui.stopped) status = t(ui.moving ? "status_moving" : "status_offline");
  // The server lost its store for a moment (server.status): calm, not an error.
  else if (ui.connected && ui.serverStatus === "degraded") status = t("status_unsteady");
  setText($("conn-status"), status);
  $("conn-status").classList.toggle("offline", !!status);
  show($("leave"), ui.screen === "room" || ui.waiting);
  if ($("lang").value !== language()) $("lang").value = language();
}

function renderNotice(ctx) {
  const n = ctx.ui.notice || { title: "connecting_title", text: "connecting_text" };
  setText($("notice-title"), t(n.title));
  setText($("notice-text"), n.text ? t(n.text, n.params || {}) : "");
  $("notice").classList.toggle("waiting", !!n.calm);
  const actions = n.actions || [];
  reconcile($("notice-actions"), actions, (a) => a.action, (a) =>
    h("button", { type: "button", class: a.primary ? "btn btn-primary" : "btn", dataset: { action: a.action } },
      t(a.label)));
}

/** A member in an on-call room is there for one thing: a responder. Their view says a
 * responder has been called, how long they have waited, and keeps chat and helplines;
 * hands, reactions and milestones belong to circles. */
export function renderOncallWait(ctx) {
  const { state } = ctx;
  const member = state.kind === "oncall" && !isStaff(ctx);
  $("room").classList.toggle("oncall-member", member);
  show($("oncall-wait"), member);
  if (!member) return;
  const answered = isPrivateRoom(state) || state.log.some((e) => e.kind === "answered");
  setText($("oncall-wait-title"), t(answered ? "oncall_here_title" : "oncall_called_title"));
  setText($("oncall-wait-text"), t(answered ? "oncall_here_text" : "oncall_called_text"));
  const since = ctx.ui.oncallSince;
  const waited = !answered && since ? Math.max(0, Date.now() - since) : null;
  setText($("oncall-waited"), waited === null ? "" : t("oncall_waited", { time: clock(waited) }));
}

// Staff on a phone: what needs them (someone who may need support, a report, people in
// the lobby) at the top of the screen, not 1,600 px down in the tools.
function renderAttention(ctx) {
  const staff = isStaff(ctx);
  const urgent = staff ? ctx.ui.alerts.filter((a) => a.kind === "crisis" || a.kind === "report").slice(0, 3) : [];
  const lobby = staff ? ctx.state.lobby.size : 0;
  show($("attention"), urgent.length > 0 || lobby > 0);
  const items = urgent.map((a) => ({ key: a.key, text: t("alert_" + a.kind) + " · "
    + (a.participant_id ? nameOf(ctx, a.participant_id) : "") }));
  if (lobby > 0) items.push({ key: "lobby", text: t("attention_lobby", { n: lobby }) });
  reconcile($("attention-list"), items, (i) => i.key + i.text, (i) => h("li", {}, i.text));
}

function renderNotes(ctx) {
  const note = ctx.ui.roomNote;
  show($("room-note"), !!note);
  setText($("room-note"), note ? t(note) : "");
}

function renderCrisis(ctx) {
  const offer = ctx.ui.crisis;
  show($("crisis"), !!offer);
  if (!offer) return;
  show($("crisis-medical"), offer.category === "medical");
  reconcile($("crisis-lines"), offer.helplines || [], (l) => l.name + l.phone, (l) =>
    h("li", {},
      h("a", { href: "tel:" + String(l.phone).replace(/[^0-9+]/g, ""), class: "helpline" },
        // The emergency number's name in the reader's language.
        h("span", { class: "helpline-name" }, String(l.phone) === "112" ? t("crisis_emergency") : l.name),
        h("span", { class: "helpline-phone" }, l.phone),
        l.hours ? h("span", { class: "helpline-hours" }, l.hours) : null)));
  const box = $("crisis-oncall");
  const room = offer.oncall_room;
  let href = null;
  if (room && room !== ctx.state.id) {
    href = offer.oncall_token ? "/#" + new URLSearchParams({ room, token: offer.oncall_token }).toString()
      : linkTo(room, ctx.token, ctx.claims);
  }
  const want = href ? "link:" + href : room && room !== ctx.state.id ? "ask" : "none";
  if (box.dataset.shown !== want + language()) {
    box.dataset.shown = want + language();
    box.replaceChildren();
    if (href) box.append(h("a", { href, target: "_blank", rel: "noopener", class: "btn btn-primary" }, t("crisis_oncall_link")));
    else if (want === "ask") box.append(t("crisis_oncall_ask"));
  }
}

function renderMoved(ctx) {
  const moved = ctx.ui.moved;
  show($("moved"), !!moved);
  if (!moved) return;
  $("moved-link").href = "/#" + new URLSearchParams({ room: moved.room, token: moved.token }).toString();
  const text = $("moved").querySelector("p");
  setText(text, t(isStaff(ctx) ? "moved_text_staff" : "moved_text"));
}

export function renderFloor(ctx) {
  const { state, me } = ctx;
  const f = state.floor;
  const holder = f ? f.participant_id : null;
  const mine = holder === me.id;
  const free = !!state.format && state.format.free_until !== null && state.format.free_until !== undefined;
  const box = $("floor-box");
  let who = t("floor_nobody");
  let timer = "";
  let note = "";
  let fraction = 0;
  let warn = false;
  let over = false;
  if (f) {
    who = mine ? t("floor_you") : t("floor_other", { name: nameOf(ctx, holder) });
    const p = state.participants.get(holder);
    if (p && !p.connected) note = t("floor_holder_away");
    if (f.deadline) {
      const remaining = Math.max(0, f.deadline - state.now());
      const total = Math.max(1, f.deadline - f.started_at);
      const warnMs = (state.settings.warn_seconds || 0) * 1000;
      fraction = remaining / total;
      over = f.expired || remaining <= 0;
      warn = !over && (f.warned || (warnMs > 0 && remaining <= warnMs));
      timer = t("time_left", { time: clock(remaining) });
      if (over) note = t(mine ? "expired_you" : "expired_other");
      else if (warn) note = t(mine ? "warn_you_note" : "warn_other_note");
    } else {
      timer = t("untimed");
    }
  } else if (free) {
    note = t("fmt_free_hint"); // the meeting's free time: no queue, everyone is heard
  } else if (!state.queue.includes(me.id)) {
    note = t("floor_nobody_hint");
  }
  setText($("floor-who"), who);
  setText($("floor-timer"), timer);
  setText($("floor-note"), note);
  box.classList.toggle("held", !!f);
  box.classList.toggle("mine", mine);
  box.classList.toggle("warn", warn);
  box.classList.toggle("over", over);
  const bar = $("floor-bar");
  bar.parentElement.hidden = !(f && f.deadline);
  bar.style.width = `${Math.round(fraction * 1000) / 10}%`;

  const myself = state.participants.get(me.id);
  const muted = !!(myself && myself.muted);
  const place = state.placeOf(me.id);
  const round = state.round;
  const upcoming = !!round && !mine && round.order.indexOf(me.id) > round.index;
  show($("btn-raise"), !mine && !place && !free);
  $("btn-raise").disabled = muted;
  show($("btn-lower"), !!place);
  show($("btn-yield"), mine);
  show($("btn-pass"), mine || upcoming);
  let placeText = "";
  if (place === 1) placeText = t("my_place_first");
  else if (place > 1) placeText = t("my_place", { place: ordinal(place), n: place });
  else if (upcoming) placeText = t("round_upcoming");
  else if (muted) placeText = t("muted_note");
  setText($("my-place"), placeText);
  const info = $("round-info");
  show(info, !!round);
  setText(info, round ? t("round_info", { n: Math.max(1, round.index + 1), total: round.order.length }) : "");
}

function renderAudio(ctx) {
  const { audio, state, me } = ctx;
  const myself = state.participants.get(me.id);
  const muted = !!(myself && myself.muted);
  let text = "";
  switch (audio.status) {
    case "connecting": text = t("audio_connecting"); break;
    case "unavailable": text = t("audio_unavailable"); break;
    case "failed": text = t("audio_failed"); break;
    case "on":
      if (audio.mic === "none") text = t(state.holder() === me.id && !muted ? "audio_floor_mic_off" : "audio_listen");
      else if (audio.mic === "asking") text = t("mic_asking");
      else if (audio.mic === "denied") text = t("mic_denied");
      else if (muted) text = t("audio_muted");
      else if (audio.selfMuted) text = t("audio_paused");
      else if (!audio.allowed) text = t("audio_ready");
      else text = audio.live() ? t("audio_live") : t("mic_asking");
      break;
    default: text = "";
  }
  setText($("audio-status"), text);
  $("audio-box").classList.toggle("live", audio.live());
  show($("btn-mic"), audio.status === "on" && audio.mic === "none");
  const selfMute = $("btn-selfmute");
  show(selfMute, audio.status === "on" && audio.mic === "ready");
  selfMute.setAttribute("aria-pressed", String(audio.selfMuted));
  setText(selfMute, t(audio.selfMuted ? "mic_resume" : "mic_pause"));
  show($("btn-hear"), audio.needsTap);
}

function timeOf(at) {
  try {
    // Punjabi has no day-period words of its own in the browser's data ("AM"): a 24-hour clock.
    const hourCycle = language() === "pa" ? "h23" : undefined;
    return new Intl.DateTimeFormat(language(), { hour: "numeric", minute: "2-digit", hourCycle }).format(new Date(at));
  } catch {
    return "";
  }
}

function renderChat(ctx) {
  const { state, me, outbox } = ctx;
  const log = $("chat-log");
  if (log.dataset.empty !== t("chat_empty")) log.dataset.empty = t("chat_empty");
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < STICK_PX;
  const staff = isStaff(ctx);
  reconcile(log, state.log, (e) => e.key, (e) => chatEntry(ctx, e, staff));
  if (atBottom) log.scrollTop = log.scrollHeight;

  reconcile($("outbox"), outbox.items, (i) => i.client_id, (i) => {
    let status;
    if (i.status === "held") status = t("outbox_held");
    else if (i.status === "failed") status = t("outbox_" + i.error) !== "outbox_" + i.error ? t("outbox_" + i.error) : t("outbox_failed");
    else if (i.error === "rate_limited") status = t("outbox_rate");
    else if (i.error === "slow") status = t("outbox_slow");
    else if (i.status === "sending" || ctx.ui.connected) status = t("outbox_sending");
    else status = t("outbox_waiting");
    return h("li", { class: "pending " + i.status },
      h("p", { class: "text" }, i.text),
      h("p", { class: "pending-status" }, status),
      i.status === "failed" || i.status === "held"
        ? h("div", { class: "row small" },
          i.status === "failed"
            ? h("button", { type: "button", class: "btn btn-small", dataset: { action: "retry", focus: "retry" } }, t("retry"))
            : null,
          h("button", { type: "button", class: "btn btn-small btn-quiet", dataset: { action: "discard", focus: "discard" } },
            t("discard")))
        : null);
  });

  const myself = state.participants.get(me.id);
  let hint = "";
  if (myself && myself.muted) hint = t("muted_note");
  else if (!hint && !staff && state.settings.chat === "facilitators") hint = t("chat_facilitators_only");
  else if (!hint && state.settings.chat === "off") hint = t("chat_is_off");
  setText($("chat-hint"), hint);
  for (const btn of document.querySelectorAll("[data-reaction]")) {
    const kind = btn.dataset.reaction;
    if (btn.dataset.lang !== language()) {
      btn.dataset.lang = language();
      btn.replaceChildren(h("span", { "aria-hidden": "true" }, EMOJI[kind] + " "), t("reaction_" + kind));
    }
  }
}

function chatEntry(ctx, e, staff) {
  const mine = e.from === ctx.me.id;
  const author = nameOf(ctx, e.from) + (mine ? " " + t("you_suffix") : "");
  if (e.kind === "reaction") {
    return h("div", { class: "entry note" },
      h("span", { "aria-hidden": "true" }, EMOJI[e.reaction] || "·"), " ",
      h("span", {}, `${author}: ${t("reaction_" + e.reaction)}`));
  }
  if (e.kind === "milestone") {
    return h("div", { class: "entry milestone" },
      h("span", { "aria-hidden": "true" }, "🌱 "),
      h("strong", {}, t("milestone_entry", { name: author, days: days(e.days) })),
      e.text ? h("p", { class: "text" }, e.text) : null);
  }
  if (e.kind === "answered") {
    return h("div", { class: "entry note" }, t("answered"));
  }
  if (e.kind.startsWith("format")) {
    return h("div", { class: "entry note format-note" + (e.kind === "format-milestones" ? " milestone" : "") },
      formatNote(ctx, e));
  }
  const replyName = e.reply_to ? replyAuthor(ctx, e.reply_to) : null;
  const actions = !e.deleted && (staff || !mine)
    ? h("span", { class: "msg-actions" },
      staff ? h("button", { type: "button", class: "btn-link", dataset: { action: "delete", focus: "delete" } },
        t("delete_message")) : null,
      !mine ? h("button", { type: "button", class: "btn-link", dataset: { action: "report", focus: "report" } },
        t("report")) : null)
    : null;
  // Who is staff is shown beside every line they write, so a look-alike name cannot
  // pass for the facilitator's.
  const sender = ctx.state.participants.get(e.from);
  const badge = sender && sender.role !== "member" ? h("span", { class: "badge" }, t("role_" + sender.role)) : null;
  return h("article", { class: "entry msg" + (mine ? " mine" : "") + (e.deleted ? " deleted" : "") },
    h("p", { class: "meta" },
      h("span", { class: "author" }, author),
      badge,
      h("time", { datetime: new Date(e.at).toISOString() }, timeOf(e.at)),
      replyName ? h("span", { class: "reply" }, t("reply_to", { name: replyName })) : null,
      actions),
    h("p", { class: "text" }, e.deleted ? t("chat_deleted") : e.text),
    e.redacted && !e.deleted ? h("p", { class: "redacted" }, t("chat_redacted")) : null);
}

function replyAuthor(ctx, seq) {
  const target = ctx.state.log.find((x) => x.seq === seq);
  return target ? nameOf(ctx, target.from) : null;
}

function renderPeople(ctx) {
  const { state, me } = ctx;
  const staff = isStaff(ctx);
  const holder = state.holder();
  const queue = state.queue;
  reconcile($("queue"), queue, (id) => id, (id) => {
    const i = queue.indexOf(id);
    return h("li", { class: "queue-item" + (id === me.id ? " me" : "") },
      h("span", { class: "pos", "aria-hidden": "true" }, String(i + 1)),
      h("span", { class: "name" }, nameOf(ctx, id) + (id === me.id ? " " + t("you_suffix") : "")),
      staff ? h("span", { class: "row small" },
        h("button", { type: "button", class: "btn btn-small", dataset: { action: "up", focus: "up" }, disabled: i === 0 },
          t("move_up")),
        h("button", { type: "button", class: "btn btn-small", dataset: { action: "down", focus: "down" },
          disabled: i === queue.length - 1 }, t("move_down"))) : null);
  });
  show($("queue-empty"), queue.length === 0);

  const people = [...state.participants.values()];
  const giver = mayGiveFloor(ctx, staff);
  const oncallHere = staff && state.kind === "oncall" && !isPrivateRoom(state);
  setText($("participant-count"), `(${people.length})`);
  reconcile($("participants"), people, (p) => p.id, (p) => {
    const tags = [];
    if (p.id === holder) tags.push(["sharing", t("st_sharing")]);
    const place = queue.indexOf(p.id);
    if (place >= 0) tags.push(["hand", `${t("st_hand")} · ${place + 1}`]);
    if (p.muted) tags.push(["muted", t("st_muted")]);
    // Someone in a small group is away on purpose, not a lost connection.
    const group = groupOf(state, p.id);
    if (group) tags.push(["group", t("grp_away_tag", { n: group.n })]);
    else if (!p.connected) tags.push(["away", t("st_away")]);
    const self = p.id === me.id;
    return h("li", { class: "person" + (p.id === holder ? " holder" : "") + (p.connected && !group ? "" : " away") },
      h("span", { class: `avatar c${hue(p.id)}`, "aria-hidden": "true" }, (p.name || "?").trim().charAt(0).toUpperCase()),
      h("span", { class: "person-main" },
        h("span", { class: "name" }, p.name),
        self ? h("span", { class: "you" }, " " + t("you_suffix")) : null,
        p.role !== "member" ? h("span", { class: "badge" }, t("role_" + p.role)) : null,
        serviceBadge(p),
        arrivalTag(ctx, staff, p.id),
        tags.length ? h("span", { class: "tags" }, tags.map(([k, text]) => h("span", { class: "tag tag-" + k }, text))) : null),
      !staff && giver && p.id !== holder && !p.muted && !group ? h("span", { class: "person-actions row small" },
        personButton("give", "give_floor", p.name)) : null,
      staff ? h("span", { class: "person-actions row small" },
        p.id !== holder && !p.muted && !group ? personButton("give", "give_floor", p.name) : null,
        p.role === "member" ? serviceSelect(p) : null,
        personButton(p.muted ? "unmute" : "mute", p.muted ? "unmute" : "mute", p.name, "", "mute"),
        oncallHere && p.role === "member" ? personButton("private", "talk_privately", p.name, " btn-primary") : null,
        !self ? personButton("remove", "remove", p.name) : null,
        !self ? personButton("ban", "ban", p.name, " btn-quiet-danger") : null) : null);
  });
}

/** A button acting on one person: its accessible name says whom ("Mute: Asha"). */
function personButton(action, label, name, extra = "", focus = action) {
  return h("button", { type: "button", class: "btn btn-small" + extra, dataset: { action, focus },
    "aria-label": t("act_on", { action: t(label), name }) }, t(label));
}

export { translatePage };

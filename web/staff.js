// The facilitator's tools (lobby, alerts, held messages, turns, settings) and the
// responder's on-call panel. Rendering only; app.js handles the clicks.

import { $, h, reconcile, setText, show } from "./dom.js";
import { t } from "./i18n.js";
import { renderGroupTools } from "./groups.js";
import { linkTo } from "./link.js";
import { arrivalTag } from "./services.js";

function nameOf(ctx, id) {
  return ctx.state.nameOf(id) || t("someone");
}

/** The two buttons of a decision on a list item: `yes` (primary) and `no`. */
function yesNo(yes, no) {
  return h("span", { class: "row small" },
    h("button", { type: "button", class: "btn btn-small btn-primary", dataset: { action: yes, focus: yes } }, t(yes)),
    h("button", { type: "button", class: "btn btn-small", dataset: { action: no, focus: no } }, t(no)));
}

export function renderStaff(ctx) {
  const { state, ui } = ctx;
  const lobby = [...state.lobby.values()];
  reconcile($("lobby"), lobby, (p) => p.id, (p) =>
    h("li", { class: "item" },
      h("span", { class: "name" }, p.name), " ", arrivalTag(ctx, true, p.id, p.arrival),
      yesNo("admit", "deny")));
  show($("lobby-empty"), lobby.length === 0);

  reconcile($("alerts"), ui.alerts, (a) => a.key, (a) => {
    const label = t("alert_" + a.kind) !== "alert_" + a.kind ? t("alert_" + a.kind) : a.kind;
    return h("li", { class: "item alert alert-" + a.kind },
      h("p", {},
        h("strong", {}, label), " · ",
        h("span", { class: "name" }, a.participant_id ? nameOf(ctx, a.participant_id) : ""),
        a.detail ? h("span", { class: "detail" }, " — " + a.detail) : null),
      h("span", { class: "row small" },
        h("button", { type: "button", class: "btn btn-small btn-quiet", dataset: { action: "dismiss", focus: "dismiss" } },
          t("dismiss"))));
  });
  show($("alerts-empty"), ui.alerts.length === 0);

  const held = [...state.held.values()];
  reconcile($("held"), held, (m) => m.id, (m) =>
    h("li", { class: "item" },
      h("p", {}, h("strong", {}, nameOf(ctx, m.from)), " ", h("span", { class: "quiet" }, t("held_reason", { reason: m.reason }))),
      h("p", { class: "text" }, m.text),
      yesNo("approve", "reject")));
  show($("held-empty"), held.length === 0);

  $("btn-revoke").disabled = !state.floor;
  show($("btn-round-start"), !state.round);
  show($("btn-round-stop"), !!state.round);
  show($("btn-private-end"), state.kind === "oncall" && state.id.startsWith("private-"));
  renderGroupTools(ctx);
  if (!ui.settingsDirty) fillSettings(state.settings, state.title === state.id ? "" : state.title);
}

export function fillSettings(s, title) {
  $("set-title").value = s.title ?? title ?? "";
  const untimed = s.share_seconds === null || s.share_seconds === undefined;
  $("set-untimed").checked = untimed;
  $("set-share").disabled = untimed;
  $("set-share").value = untimed ? "" : String(Math.round((s.share_seconds / 60) * 10) / 10);
  $("set-warn").value = String(s.warn_seconds ?? 30);
  $("set-overrun").value = s.overrun || "notify";
  $("set-chat").value = s.chat || "open";
  $("set-audio").value = s.audio || "floor";
  $("set-lobby").checked = !!s.lobby;
  $("set-locked").checked = !!s.locked;
}

/** The changes the form asks for, compared with the room's settings now. */
export function settingsChanges(s) {
  const want = {
    title: $("set-title").value.trim(),
    share_seconds: $("set-untimed").checked ? null
      : Math.min(3600, Math.max(10, Math.round(parseFloat($("set-share").value || "3") * 60))),
    warn_seconds: Math.min(3600, Math.max(0, parseInt($("set-warn").value || "0", 10) || 0)),
    overrun: $("set-overrun").value,
    chat: $("set-chat").value,
    audio: $("set-audio").value,
    lobby: $("set-lobby").checked,
    locked: $("set-locked").checked,
  };
  const changes = {};
  for (const [k, v] of Object.entries(want)) if (s[k] !== v) changes[k] = v;
  return changes;
}

export function waitedText(ms) {
  const min = Math.floor(ms / 60000);
  return t("waiting_for", { time: min < 1 ? t("less_than_minute") : t("minutes", { n: min }) });
}

export function renderResponder(ctx) {
  const { ui } = ctx;
  const btn = $("btn-duty");
  // Duty is for responders only; a facilitator sees the panel just for tier-2 pages.
  show(btn.parentElement, ctx.me.role === "responder");
  const on = ui.duty === "on";
  btn.setAttribute("aria-pressed", String(on));
  setText(btn, t(on ? "duty_off" : "duty_on"));
  btn.disabled = ui.duty === "unavailable";
  setText($("duty-status"), ui.duty === "unavailable" ? t("duty_unavailable") : ui.duty === "on" ? t("duty_is_on")
    : ui.duty === "off" && ui.dutyTouched ? t("duty_is_off") : "");
  const pages = [...ui.pages.values()].sort((a, b) => a.since - b.since);
  const now = ctx.state.now();
  reconcile($("pages"), pages, (p) => p.key, (p) => {
    const href = linkTo(p.room, ctx.token, ctx.claims);
    const reason = p.reason === "crisis_detected" ? t("page_reason_crisis") : t("page_reason_joined");
    return h("li", { class: "item page" + (p.tier > 1 ? " urgent" : "") },
      h("p", {},
        h("strong", {}, t("page_item", { room: p.room })), " — ", reason),
      h("p", { class: "quiet" }, waitedText(now - p.since), p.tier > 1 ? " · " + t("page_urgent") : ""),
      h("span", { class: "row small" },
        href && p.room !== ctx.state.id
          ? h("a", { href, target: "_blank", rel: "noopener", class: "btn btn-small btn-primary" }, t("open_room")) : null,
        h("button", { type: "button", class: "btn btn-small btn-quiet", dataset: { action: "dismiss-page", focus: "dismiss" } },
          t("dismiss"))));
  });
  show($("pages-empty"), pages.length === 0);
}

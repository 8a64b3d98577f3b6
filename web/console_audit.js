// The console's audit log: who did what to whom and when, by id, never what was said (the
// audit holds no content). Filters: the circle, the kind of action (one, or a group of
// several), and a span of time; newest first, a page at a time, "Older" following the
// server's X-Next-Before cursor.

import { $, h, reconcile, show } from "./dom.js";
import { dateTime, duration } from "./console_format.js";
import { t } from "./i18n.js";

let ctx = null;
let entries = []; // newest first, every page shown so far
let next = null; // the cursor of the next (older) page, or null
let query = ""; // the filters of what is shown
const PAGE = 100;

// Groups first (several actions at once), then each action the server writes.
const GROUPS = [
  ["ops_group_oncall", "oncall.page,oncall.escalate,oncall.answered,oncall.private"],
  ["ops_group_removals", "remove,ban"],
  ["ops_group_messages", "message.held,message.blocked,message.redacted,message.approve,message.reject,message.delete"],
  ["ops_group_alerts", "alert.crisis,alert.flood,alert.blocked,alert.contact,alert.hook_failed"],
];
const ACTIONS = [
  "oncall.page", "oncall.escalate", "oncall.answered", "oncall.private", "alert.crisis", "report", "mute", "unmute",
  "remove", "ban", "lobby.admit", "lobby.deny", "message.held", "message.blocked", "message.redacted",
  "message.approve", "message.reject", "message.delete", "invite.create", "invite.use", "invite.revoke", "room.end",
];

export const section = h("section", { class: "card ops", "aria-labelledby": "audit-title" });

function T(tag, key, attrs = {}) {
  return h(tag, { ...attrs, "data-i18n": key }, t(key));
}

const actionKey = (a) => "ops_act_" + a.replace(/\./g, "_");

function build() {
  const actionSelect = h("select", { id: "ops-audit-action" },
    T("option", "ops_all_actions", { value: "" }),
    h("optgroup", { "data-i18n-label": "ops_action_groups", label: t("ops_action_groups") },
      GROUPS.map(([key, value]) => T("option", key, { value }))),
    h("optgroup", { "data-i18n-label": "ops_one_action", label: t("ops_one_action") },
      ACTIONS.map((a) => T("option", actionKey(a), { value: a }))));
  const form = h("form", { id: "ops-audit-form", class: "ops-filters", novalidate: true },
    h("div", { class: "field" }, T("label", "console_audit_room", { for: "ops-audit-room" }),
      h("select", { id: "ops-audit-room" }, T("option", "console_all_circles", { value: "" }))),
    h("div", { class: "field" }, T("label", "ops_action", { for: "ops-audit-action" }), actionSelect),
    h("div", { class: "field" }, T("label", "ops_from", { for: "ops-audit-from" }),
      h("input", { id: "ops-audit-from", type: "datetime-local" })),
    h("div", { class: "field" }, T("label", "ops_to", { for: "ops-audit-to" }),
      h("input", { id: "ops-audit-to", type: "datetime-local" })),
    h("div", { class: "row" }, T("button", "console_show", { type: "submit", class: "btn" })),
    h("p", { id: "ops-audit-error", class: "ops-error", role: "alert" }));
  form.addEventListener("submit", (e) => { e.preventDefault(); ctx.attempt(showFirst); });
  const older = T("button", "ops_older", { id: "ops-audit-older", type: "button", class: "btn" });
  older.addEventListener("click", () => ctx.attempt(showOlder));
  section.append(
    T("h2", "console_audit", { id: "audit-title", tabindex: "-1" }),
    T("p", "ops_audit_text", { class: "quiet" }),
    form,
    h("ul", { id: "ops-audit", class: "plain-list audit-list", "aria-labelledby": "audit-title" }),
    T("p", "ops_audit_empty", { id: "ops-audit-empty", class: "quiet" }),
    h("div", { class: "row" }, older));
  show(older, false);
  show($("ops-audit-empty"), false);
}

function label(action) {
  const key = actionKey(action);
  return t(key) !== key ? t(key) : action;
}

/** The on-call reasons the server writes, in the page's language; any other as it is. */
function reason(text) {
  let m;
  if (text === "tier 1") return t("ops_reason_tier1");
  if ((m = /^tier 2: no responder within (\d+) s$/.exec(text))) return t("ops_reason_tier2", { time: duration(Number(m[1]) * 1000) });
  if ((m = /^waited (\d+) ms$/.exec(text))) return t("ops_reason_waited", { time: duration(Number(m[1])) });
  return text;
}

function render() {
  reconcile($("ops-audit"), entries, (a) => `${a.at}/${a.room}/${a.action}/${a.target}/${a.actor}/${a.reason}`, (a) =>
    h("li", { class: "item" },
      h("p", {}, h("span", { class: "quiet" }, dateTime(a.at) + " · " + a.room + " · "),
        h("strong", {}, label(a.action)), " ", h("code", {}, a.action),
        a.target ? " → " + a.target : "", a.actor ? " (" + a.actor + ")" : ""),
      a.reason ? h("p", { class: "quiet" }, reason(a.reason)) : null));
  show($("ops-audit-older"), next !== null);
}

function filters() {
  const q = new URLSearchParams({ limit: String(PAGE) });
  const room = $("ops-audit-room").value;
  const action = $("ops-audit-action").value;
  const from = $("ops-audit-from").value;
  const to = $("ops-audit-to").value;
  if (room) q.set("room", room);
  if (action) q.set("action", action);
  // The inputs are in the coordinator's time; "to" includes its whole minute.
  if (from) q.set("since", String(new Date(from).getTime()));
  if (to) q.set("until", String(new Date(to).getTime() + 60_000));
  return q;
}

async function page(q) {
  const { data, headers } = await ctx.api("GET", "/api/audit?" + q.toString(), undefined, { full: true });
  return { newest: data.slice().reverse(), cursor: headers.get("X-Next-Before") };
}

async function showFirst() {
  const err = $("ops-audit-error");
  err.textContent = "";
  const from = $("ops-audit-from").value;
  const to = $("ops-audit-to").value;
  if (from && to && to < from) {
    err.textContent = t("ops_to_before_from");
    return;
  }
  const q = filters();
  const got = await page(q);
  query = q.toString();
  entries = got.newest;
  next = got.cursor;
  render();
  show($("ops-audit-empty"), entries.length === 0);
}

async function showOlder() {
  if (next === null) return;
  const q = new URLSearchParams(query);
  q.set("before", next);
  const got = await page(q);
  entries = entries.concat(got.newest);
  next = got.cursor;
  render();
  // Focus stays on "Older" while there is more; else on the list's heading.
  if (next === null) $("audit-title").focus();
}

/** The circles to choose from (the console's list changed). */
export function roomsChanged(rooms) {
  const select = $("ops-audit-room");
  const chosen = select.value;
  for (const opt of [...select.options].slice(1)) opt.remove();
  for (const r of rooms) select.append(h("option", { value: r.id }, r.title));
  select.value = rooms.some((r) => r.id === chosen) ? chosen : "";
}

export function mount(context) {
  ctx = context;
  build();
}

export function relabel() {
  for (const el of section.querySelectorAll("[data-i18n-label]")) el.label = t(el.dataset.i18nLabel);
  render();
}

export function stop() {
  entries = [];
  next = null;
  render();
}

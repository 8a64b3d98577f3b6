// The console's on-call figures: pages, escalations, answers and answer times for a span
// of days (GET /api/oncall/stats, counted by the server from the audit log), in the
// coordinator's own time zone, with one line per day.

import { $, h, reconcile, show } from "./dom.js";
import { dayLabel, duration } from "./console_format.js";
import { t } from "./i18n.js";

let ctx = null;
let stats = null;

export const section = h("section", { class: "card ops", "aria-labelledby": "ops-stats-title" });

function T(tag, key, attrs = {}) {
  return h(tag, { ...attrs, "data-i18n": key }, t(key));
}

function isoDate(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function build() {
  const form = h("form", { id: "ops-stats-form", novalidate: true },
    h("div", { class: "ops-times" },
      h("div", { class: "field" }, T("label", "ops_from_day", { for: "ops-stats-from" }),
        h("input", { id: "ops-stats-from", type: "date" })),
      h("div", { class: "field" }, T("label", "ops_to_day", { for: "ops-stats-to" }),
        h("input", { id: "ops-stats-to", type: "date" }))),
    h("div", { class: "row" }, T("button", "ops_count", { type: "submit", class: "btn" })),
    h("p", { id: "ops-stats-error", class: "ops-error", role: "alert" }));
  form.addEventListener("submit", (e) => { e.preventDefault(); ctx.attempt(load); });
  section.append(
    T("h2", "ops_stats_title", { id: "ops-stats-title", tabindex: "-1" }),
    T("p", "ops_stats_text", { class: "quiet" }),
    form,
    h("dl", { id: "ops-stats", class: "ops-stats", "aria-labelledby": "ops-stats-title" }),
    T("h3", "ops_per_day", { id: "ops-days-title" }),
    h("ul", { id: "ops-days", class: "plain-list", "aria-labelledby": "ops-days-title" }));
}

function render() {
  const dl = $("ops-stats");
  dl.replaceChildren();
  show($("ops-days-title"), !!stats);
  if (!stats) {
    reconcile($("ops-days"), [], () => "", () => null);
    return;
  }
  const rows = [
    ["ops_pages", String(stats.pages)],
    ["ops_answered", String(stats.answered)],
    ["ops_unanswered", String(stats.unanswered)],
    ["ops_escalations", String(stats.escalations)],
    ["ops_median", duration(stats.median_answer_ms)],
    ["ops_p90", duration(stats.p90_answer_ms)],
    ["ops_at_once", String(stats.answered_at_once)],
  ];
  for (const [key, value] of rows) {
    dl.append(h("div", { class: "ops-stat" }, T("dt", key), h("dd", { dataset: { stat: key } }, value)));
  }
  reconcile($("ops-days"), stats.days.slice().reverse(), (d) => d.date, (d) =>
    h("li", { class: "item" }, h("p", {}, h("strong", {}, dayLabel(d.date)), " · ",
      t("ops_day_line", { pages: d.pages, answered: d.answered, unanswered: d.unanswered, escalations: d.escalations }),
      d.median_answer_ms === null ? "" : " · " + t("ops_day_median", { time: duration(d.median_answer_ms) }))));
}

async function load() {
  const err = $("ops-stats-error");
  err.textContent = "";
  const from = $("ops-stats-from").value;
  const to = $("ops-stats-to").value;
  if (!from || !to || to < from) {
    err.textContent = t("ops_days_needed");
    return;
  }
  // The coordinator's days: from the first's midnight to the midnight after the last.
  const since = new Date(from + "T00:00").getTime();
  const end = new Date(to + "T00:00");
  end.setDate(end.getDate() + 1);
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "Asia/Kolkata";
  try {
    stats = await ctx.api("GET", `/api/oncall/stats?since=${since}&until=${end.getTime()}&tz=${encodeURIComponent(tz)}`);
  } catch (e) {
    if (!(e instanceof ctx.ApiError) || e.status !== 400) throw e;
    err.textContent = t("ops_refused", { message: e.message });
    return;
  }
  render();
}

export function mount(context) {
  ctx = context;
  build();
}

export function start() {
  const today = new Date();
  const weekAgo = new Date();
  weekAgo.setDate(today.getDate() - 6);
  $("ops-stats-from").value = isoDate(weekAgo);
  $("ops-stats-to").value = isoDate(today);
  return ctx.attempt(load);
}

export function relabel() {
  render();
}

export function stop() {
  stats = null;
  render();
}

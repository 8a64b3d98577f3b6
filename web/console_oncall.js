// The console's on-call view: who is on duty now (on any worker), who the rota expects
// now and is not on duty (what a coordinator must see first), the week's rota as a table,
// and the rota's shifts to add and remove. Speaks GET /api/oncall/duty and
// GET/PUT /api/oncall/rota through the console's `api`.

import { $, h, reconcile, show } from "./dom.js";
import { dateTime, dayName, time } from "./console_format.js";
import { t } from "./i18n.js";

let ctx = null;
let shifts = [];
let duty = { on_duty: [], expected: [] };

export const section = h("section", { class: "card ops", "aria-labelledby": "ops-duty-title" });

/** An element whose text is the string `key` (re-translated when the language changes). */
function T(tag, key, attrs = {}) {
  return h(tag, { ...attrs, "data-i18n": key }, t(key));
}

/** "09:00–17:00", "22:00–06:00 (next day)", with the time zone when it is not Kolkata's. */
export function hours(s) {
  const next = " " + (s.end === s.start ? t("ops_whole_day") : s.end < s.start ? t("ops_next_day") : "");
  const tz = s.tz && s.tz !== "Asia/Kolkata" ? " " + s.tz : "";
  return `${s.start}–${s.end}${next.trimEnd()}${tz}`;
}

function build() {
  section.append(
    T("h2", "ops_duty_title", { id: "ops-duty-title", tabindex: "-1" }),
    T("h3", "ops_missing", { id: "ops-missing-title" }),
    h("ul", { id: "ops-missing", class: "plain-list ops-missing", "aria-labelledby": "ops-missing-title" }),
    T("p", "ops_missing_none", { id: "ops-missing-none", class: "quiet" }),
    T("h3", "ops_on_duty", { id: "ops-on-duty-title" }),
    h("ul", { id: "ops-on-duty", class: "plain-list", "aria-labelledby": "ops-on-duty-title" }),
    T("p", "ops_nobody_on_duty", { id: "ops-nobody-on-duty", class: "quiet" }),
    T("h3", "ops_rota", { id: "ops-rota-title" }),
    h("div", { class: "ops-table-wrap" },
      h("table", { id: "ops-week", class: "ops-week", "aria-labelledby": "ops-rota-title" },
        h("thead", {}, h("tr", {}, T("th", "ops_day", { scope: "col" }), T("th", "ops_who", { scope: "col" }))),
        h("tbody", { id: "ops-week-days" }))),
    T("p", "ops_rota_empty", { id: "ops-rota-empty", class: "quiet" }),
    T("h3", "ops_shifts", { id: "ops-shifts-title" }),
    h("ul", { id: "ops-shifts", class: "plain-list", "aria-labelledby": "ops-shifts-title" }),
    shiftForm());
}

function field(id, key, input) {
  return h("div", { class: "field" }, T("label", key, { for: id }), input);
}

function shiftForm() {
  const days = h("fieldset", { class: "ops-days" }, T("legend", "ops_days"),
    ...[1, 2, 3, 4, 5, 6, 7].map((d) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "day", value: String(d) }),
      h("span", { class: "ops-day-name", dataset: { day: String(d) } }, dayName(d)))));
  const form = h("form", { id: "ops-shift-form", "aria-labelledby": "ops-shift-form-title", novalidate: true },
    T("h3", "ops_add_shift", { id: "ops-shift-form-title" }),
    field("ops-responder", "ops_responder_id",
      h("input", { id: "ops-responder", type: "text", maxlength: "64", autocomplete: "off", spellcheck: "false",
        "aria-describedby": "ops-responder-hint" })),
    T("p", "ops_responder_hint", { id: "ops-responder-hint", class: "quiet" }),
    field("ops-name", "ops_responder_name", h("input", { id: "ops-name", type: "text", maxlength: "40" })),
    days,
    h("div", { class: "ops-times" },
      field("ops-start", "ops_start", h("input", { id: "ops-start", type: "time", value: "09:00" })),
      field("ops-end", "ops_end", h("input", { id: "ops-end", type: "time", value: "17:00",
        "aria-describedby": "ops-end-hint" }))),
    T("p", "ops_end_hint", { id: "ops-end-hint", class: "quiet" }),
    field("ops-tz", "ops_tz", h("input", { id: "ops-tz", type: "text", value: "Asia/Kolkata", spellcheck: "false" })),
    h("div", { class: "row" }, T("button", "ops_add_shift_button", { type: "submit", class: "btn btn-primary" })),
    h("p", { id: "ops-shift-error", class: "ops-error", role: "alert" }));
  form.addEventListener("submit", addShift);
  return form;
}

// -- rendering ---------------------------------------------------------------------------------

function render() {
  const on = new Set(duty.on_duty.map((d) => d.responder));
  const expectedIds = new Set(duty.expected.map((e) => e.responder));
  const missing = duty.expected.filter((e) => !e.on_duty);
  reconcile($("ops-missing"), missing, (e) => e.responder, (e) =>
    h("li", { class: "item ops-warn" }, h("p", {},
      h("strong", {}, e.name), " ", h("span", { class: "quiet" }, "(" + e.responder + ")"), " · ",
      t("ops_expected_until", { hours: hours(e), until: time(e.until) }))));
  show($("ops-missing-none"), missing.length === 0);
  reconcile($("ops-on-duty"), duty.on_duty, (d) => d.responder, (d) =>
    h("li", { class: "item" }, h("p", {},
      h("strong", {}, d.name), " ", h("span", { class: "quiet" }, "(" + d.responder + ")"), " · ",
      t("ops_since", { when: dateTime(d.since) }),
      expectedIds.has(d.responder) ? " · " + t("ops_on_rota_now") : "")));
  show($("ops-nobody-on-duty"), duty.on_duty.length === 0);

  // The week, a row per day: who works that day, and for the shifts of this moment
  // whether that person is on duty.
  const nowShifts = new Map(duty.expected.map((e) => [`${e.shift}/${e.day}`, e]));
  const rows = [1, 2, 3, 4, 5, 6, 7].map((d) => ({ d, items: shifts.map((s, i) => ({ s, i })).filter((x) => x.s.days.includes(d)) }));
  reconcile($("ops-week-days"), rows, (r) => r.d, (r) =>
    h("tr", {},
      h("th", { scope: "row" }, dayName(r.d)),
      h("td", {}, r.items.length === 0 ? h("span", { class: "quiet" }, "—") :
        h("ul", { class: "plain-list" }, r.items.map(({ s, i }) => {
          const now = nowShifts.get(`${i}/${r.d}`);
          const mark = !now ? null : now.on_duty
            ? h("span", { class: "ops-badge ops-ok" }, t("ops_now_on_duty"))
            : h("span", { class: "ops-badge ops-bad" }, t("ops_now_not_on_duty"));
          return h("li", {}, h("strong", {}, s.name), " ", hours(s), mark ? " " : "", mark);
        })))));
  show($("ops-rota-empty"), shifts.length === 0);
  reconcile($("ops-shifts"), shifts.map((s, i) => ({ s, i })), (x) => `${x.i}/${JSON.stringify(x.s)}`, ({ s }) =>
    h("li", { class: "item" },
      h("p", {}, h("strong", {}, s.name), " ", h("span", { class: "quiet" }, "(" + s.responder + ")"), " · ",
        s.days.map((d) => dayName(d, "short")).join(", "), " · ", hours(s),
        on.has(s.responder) ? " · " + t("ops_is_on_duty") : ""),
      h("button", { type: "button", class: "btn btn-small", dataset: { action: "remove-shift", focus: "remove" },
        "aria-label": t("ops_remove_shift_for", { name: s.name, days: s.days.map((d) => dayName(d, "short")).join(", "), hours: hours(s) }) },
      t("ops_remove"))));
  for (const el of section.querySelectorAll(".ops-day-name")) el.textContent = dayName(Number(el.dataset.day));
}

// -- the rota --------------------------------------------------------------------------------------

async function save(next) {
  const err = $("ops-shift-error");
  err.textContent = "";
  try {
    const saved = await ctx.api("PUT", "/api/oncall/rota", { shifts: next });
    shifts = saved.shifts;
    await ctx.attempt(loadDuty);
    render();
    return true;
  } catch (e) {
    if (!(e instanceof ctx.ApiError)) throw e;
    err.textContent = e.status === 400 && e.message ? t("ops_refused", { message: e.message }) : ctx.errorText(e);
    return false;
  }
}

async function addShift(e) {
  e.preventDefault();
  const form = e.target;
  const shift = {
    responder: $("ops-responder").value.trim(),
    name: $("ops-name").value.trim(),
    days: [...form.querySelectorAll("input[name=day]:checked")].map((c) => Number(c.value)),
    start: $("ops-start").value,
    end: $("ops-end").value,
    tz: $("ops-tz").value.trim() || "Asia/Kolkata",
  };
  if (await save([...shifts, shift])) {
    ctx.flash(t("ops_shift_added", { name: shift.name }));
    $("ops-responder").value = "";
    $("ops-name").value = "";
    for (const c of form.querySelectorAll("input[name=day]")) c.checked = false;
    $("ops-responder").focus();
  }
}

async function removeShift(e) {
  const btn = e.target.closest("button[data-action=remove-shift]");
  if (!btn) return;
  const index = Number(btn.closest("li").dataset.key.split("/")[0]);
  const gone = shifts[index];
  if (!gone) return;
  if (await save(shifts.filter((_, i) => i !== index))) {
    ctx.flash(t("ops_shift_removed", { name: gone.name }));
    $("ops-shifts-title").focus();
  }
}

// -- loading -------------------------------------------------------------------------------------

async function loadDuty() {
  duty = await ctx.api("GET", "/api/oncall/duty");
}

async function load() {
  const [rota] = await Promise.all([ctx.api("GET", "/api/oncall/rota"), loadDuty()]);
  shifts = rota.shifts;
  render();
}

export function mount(context) {
  ctx = context;
  build();
  $("ops-shifts").addEventListener("click", removeShift);
  $("ops-shifts-title").setAttribute("tabindex", "-1");
}

export const start = () => ctx.attempt(load);
export const tick = () => ctx.attempt(load);
export function relabel() {
  render();
}
export function stop() {
  shifts = [];
  duty = { on_duty: [], expected: [] };
  render();
}

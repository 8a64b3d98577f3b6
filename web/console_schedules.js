// The staff console's schedule form: a circle meets weekly (days, local time, length, how
// early it opens, when the reminder goes), listed publicly or not; the next meeting, and
// for a listed circle the links to share: its page, its calendar, the meeting list.
// The admin API it speaks: PUT/GET/DELETE /api/rooms/{id}/schedule (docs/protocol.md §3).

import { $, h, show } from "./dom.js";
import { formatWhen, t, weekdayName } from "./i18n.js";

const DAYS = [1, 2, 3, 4, 5, 6, 7]; // ISO: Monday .. Sunday
const DEFAULT_TZ = "Asia/Kolkata";
let deps = null; // {api, attempt, flash, copy}
let room = null; // the circle whose schedule is shown
let title = ""; // its name: the schedule's title in calendars and meeting lists
let shown = null; // the schedule as the server last gave it (null: none)

const dayName = weekdayName;

/** A meeting's start in the circle's own zone (its "19:00" is what the coordinator set). */
function whenLocal(ms, tz) {
  return formatWhen(ms, { timeZone: tz });
}

function renderDays(chosen) {
  const box = $("sched-days");
  box.replaceChildren(...DAYS.map((d) => h("label", { class: "day" },
    h("input", { type: "checkbox", value: String(d), checked: chosen.includes(d) }), " ", dayName(d))));
}

function fill(s) {
  shown = s;
  renderDays(s ? s.days : []);
  $("sched-start").value = s ? s.start : "19:00";
  $("sched-duration").value = s ? s.duration_min : 90;
  $("sched-tz").value = s ? s.tz : DEFAULT_TZ;
  $("sched-opens").value = s ? s.opens_early_min : 10;
  $("sched-remind").value = s ? s.remind_before_min : 60;
  $("sched-public").checked = s ? s.public : false;
  $("sched-notes").value = s ? s.notes : "";
  show($("sched-remove"), !!s);
  renderState(s);
}

function renderState(s) {
  const next = $("sched-next");
  if (!s) next.textContent = t("sched_none");
  else if (s.open) next.textContent = t("sched_open_now");
  else if (s.next) next.textContent = t("sched_next", { when: whenLocal(s.next.start_ms, s.tz) });
  else next.textContent = t("sched_ended");
  const shared = $("sched-shared");
  show(shared, !!(s && s.public));
  if (s && s.public) {
    $("sched-page").value = location.origin + "/#room=" + room;
    $("sched-ics").value = location.origin + "/calendar/" + room + ".ics";
    $("sched-feed").value = location.origin + "/meetings.json";
  }
}

/** Show the schedule of `id` (hidden for an on-call room, which is always open). */
export async function showSchedule(id, kind, name) {
  room = id;
  title = name || id;
  show($("schedule"), kind !== "oncall");
  $("sched-status").textContent = "";
  if (kind === "oncall") return;
  fill(null);
  const s = await deps.attempt(async () => {
    try {
      return await deps.api("GET", "/api/rooms/" + id + "/schedule");
    } catch (err) {
      if (err.status === 404) return null;
      throw err;
    }
  });
  if (room === id && s !== undefined) fill(s);
}

function readForm() {
  const days = [...$("sched-days").querySelectorAll("input:checked")].map((i) => Number(i.value));
  return {
    title,
    days,
    start: $("sched-start").value,
    duration_min: Number($("sched-duration").value),
    tz: $("sched-tz").value.trim() || DEFAULT_TZ,
    opens_early_min: Number($("sched-opens").value),
    remind_before_min: Number($("sched-remind").value),
    notes: $("sched-notes").value.trim(),
    public: $("sched-public").checked,
  };
}

export function initSchedules(given) {
  deps = given;
  $("schedule-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!room) return;
    const body = readForm();
    const status = $("sched-status");
    if (body.days.length === 0) {
      status.textContent = t("sched_pick_days");
      $("sched-days").querySelector("input").focus();
      return;
    }
    try {
      const saved = await deps.api("PUT", "/api/rooms/" + room + "/schedule", body);
      fill(saved);
      status.textContent = t("sched_saved");
    } catch (err) {
      // The server names the field at fault ("schedule.tz: unknown time zone ..."): show it.
      status.textContent = err.status === 400 && err.message ? t("sched_refused", { why: err.message })
        : t("err_default");
    }
  });
  $("sched-remove").addEventListener("click", async () => {
    if (!room) return;
    if ((await deps.attempt(() => deps.api("DELETE", "/api/rooms/" + room + "/schedule"))) === undefined) return;
    fill(null);
    $("sched-status").textContent = t("sched_removed");
  });
  for (const [button, input] of [["sched-copy-page", "sched-page"], ["sched-copy-ics", "sched-ics"]]) {
    $(button).addEventListener("click", () => deps.copy($(input).value, $(input), $("sched-status")));
  }
}

/** The language changed: the weekday names and the next meeting follow it. */
export function relabelSchedule() {
  if (!room || $("schedule").hidden) return;
  const chosen = [...$("sched-days").querySelectorAll("input:checked")].map((i) => Number(i.value));
  renderDays(chosen);
  renderState(shown);
}

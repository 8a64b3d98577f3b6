// The console's circle settings: the name and the room settings of one circle, saved with
// PATCH /api/rooms/{id}. Only what was changed is sent (a facilitator may be changing
// something else in the meeting meanwhile), and the bounds are the server's: a value it
// refuses is shown with its own message, beside the field it names.

import { $, h, show } from "./dom.js";
import { t } from "./i18n.js";

let ctx = null;
let room = null; // the circle shown: {id, kind}
let loaded = null; // its settings as the server last said

export const section = h("section", { id: "ops-settings", class: "card ops", "aria-labelledby": "ops-settings-title",
  hidden: true });

function T(tag, key, attrs = {}) {
  return h(tag, { ...attrs, "data-i18n": key }, t(key));
}

// [setting, label key, kind, choices (value, label key) for a select]
const FIELDS = [
  ["title", "ops_set_title", "text"],
  ["share_seconds", "ops_set_share", "seconds-or-none"],
  ["warn_seconds", "ops_set_warn", "number"],
  ["overrun", "ops_set_overrun", "select", [["notify", "ops_overrun_notify"], ["advance", "ops_overrun_advance"]]],
  ["auto_advance", "ops_set_auto_advance", "check"],
  ["mode", "ops_set_mode", "select", [["queue", "ops_mode_queue"], ["round", "ops_mode_round"]]],
  ["chat", "ops_set_chat", "select", [["open", "ops_chat_open"], ["facilitators", "ops_chat_facilitators"],
    ["off", "ops_chat_off"]]],
  ["audio", "ops_set_audio", "select", [["floor", "ops_audio_floor"], ["open", "ops_audio_open"]]],
  ["lobby", "ops_set_lobby", "check"],
  ["locked", "ops_set_locked", "check"],
  ["max_participants", "ops_set_max", "number"],
  ["slow_mode_seconds", "ops_set_slow", "number"],
  ["reconnect_grace_seconds", "ops_set_grace", "number"],
  ["escalate_after_seconds", "ops_set_escalate", "number", null, "oncall"],
];

const inputId = (name) => "ops-set-" + name.replace(/_/g, "-");

function control([name, key, kind, choices]) {
  const id = inputId(name);
  if (kind === "check") {
    return h("div", { class: "field", dataset: { setting: name } },
      h("label", { class: "check" }, h("input", { id, type: "checkbox" }), T("span", key)));
  }
  let input;
  if (kind === "select") {
    input = h("select", { id }, choices.map(([value, label]) => T("option", label, { value })));
  } else if (kind === "text") {
    input = h("input", { id, type: "text", maxlength: "120" });
  } else {
    // No min or max here: the server's bounds decide, and say why.
    input = h("input", { id, type: "text", inputmode: "numeric", autocomplete: "off" });
  }
  return h("div", { class: "field", dataset: { setting: name } }, T("label", key, { for: id }), input);
}

function build() {
  const form = h("form", { id: "ops-settings-form", novalidate: true },
    FIELDS.map(control),
    h("p", { id: "ops-settings-error", class: "ops-error", role: "alert" }),
    h("p", { id: "ops-settings-status", role: "status", "aria-live": "polite" }),
    h("div", { class: "row" },
      T("button", "ops_save", { type: "submit", class: "btn btn-primary" }),
      T("button", "ops_close", { id: "ops-settings-close", type: "button", class: "btn" })));
  form.addEventListener("submit", (e) => { e.preventDefault(); save(); });
  section.append(h("h2", { id: "ops-settings-title", tabindex: "-1" }),
    T("p", "ops_settings_text", { class: "quiet" }), form);
  $("ops-settings-close").addEventListener("click", close);
}

function fill(settings) {
  for (const [name, , kind, , only] of FIELDS) {
    const el = $(inputId(name));
    show(el.closest(".field"), !only || only === room.kind);
    el.removeAttribute("aria-invalid");
    if (kind === "check") el.checked = !!settings[name];
    else el.value = settings[name] === null || settings[name] === undefined ? "" : String(settings[name]);
  }
}

/** What the form says, for each setting, as the API takes it. */
function read() {
  const out = {};
  for (const [name, , kind, , only] of FIELDS) {
    if (only && only !== room.kind) continue;
    const el = $(inputId(name));
    if (kind === "check") out[name] = el.checked;
    else if (kind === "text" || kind === "select") out[name] = el.value;
    else {
      const raw = el.value.trim();
      // A number if it reads as one; otherwise what was typed, for the server to refuse by name.
      out[name] = raw === "" ? (kind === "seconds-or-none" ? null : raw) : /^-?\d+$/.test(raw) ? Number(raw) : raw;
    }
  }
  return out;
}

function setTitle() {
  $("ops-settings-title").textContent = room ? t("ops_settings_title", { title: loaded?.title || room.title || room.id }) : "";
}

async function save() {
  if (!room || !loaded) return;
  $("ops-settings-error").textContent = "";
  $("ops-settings-status").textContent = "";
  for (const el of section.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const now = read();
  const changes = Object.fromEntries(Object.entries(now).filter(([k, v]) => v !== loaded[k]));
  if (Object.keys(changes).length === 0) {
    $("ops-settings-status").textContent = t("ops_nothing_changed");
    return;
  }
  try {
    const got = await ctx.api("PATCH", "/api/rooms/" + room.id, { settings: changes });
    loaded = got.settings;
    fill(loaded);
    setTitle();
    $("ops-settings-status").textContent = t("ops_saved");
    ctx.reloadRooms();
  } catch (e) {
    if (!(e instanceof ctx.ApiError)) throw e;
    if (e.status === 0 || e.status >= 500 || !e.message) {
      $("ops-settings-error").textContent = ctx.errorText(e);
      return;
    }
    // "share_seconds must be an integer from 10 to 3600": the field it names is marked.
    const named = FIELDS.find(([name]) => e.message.startsWith(name + " ") || e.message.startsWith(name + ":"));
    const where = named ? t(named[1]) + ": " : "";
    $("ops-settings-error").textContent = t("ops_refused", { message: where + e.message });
    if (named) {
      const el = $(inputId(named[0]));
      el.setAttribute("aria-invalid", "true");
      el.setAttribute("aria-describedby", "ops-settings-error");
      el.focus();
    }
  }
}

/** Show the settings of circle `id` (from its row's "Settings" button). */
export async function open(id) {
  const r = ctx.rooms().find((x) => x.id === id);
  const got = await ctx.attempt(() => ctx.api("GET", "/api/rooms/" + id));
  if (!got) return;
  room = { id, kind: got.kind, title: r ? r.title : got.title };
  loaded = got.settings;
  fill(loaded);
  $("ops-settings-error").textContent = "";
  $("ops-settings-status").textContent = "";
  setTitle();
  show(section, true);
  $("ops-settings-title").focus();
}

function close() {
  const id = room && room.id;
  room = null;
  loaded = null;
  show(section, false);
  const back = id && document.querySelector(`#circles li[data-key="${CSS.escape(id)}"] button[data-action=settings]`);
  if (back) back.focus();
}

export function mount(context) {
  ctx = context;
  build();
}

export function relabel() {
  setTitle();
}

export function roomsChanged(rooms) {
  if (room && !rooms.some((r) => r.id === room.id)) close();
}

export function stop() {
  room = null;
  loaded = null;
  show(section, false);
}

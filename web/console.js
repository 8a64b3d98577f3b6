// The staff console (/staff): circles, group and personal links, who waits in on-call
// rooms; and, in modules of their own, circle settings, the on-call view (duty, rota),
// on-call figures and the audit log. It speaks the admin API with the admin key, which
// lives in this module's memory only: never in the address, never in storage; closing the
// tab signs out.

import { $, h, reconcile, show } from "./dom.js";
import { language, pickLanguage, setLanguage, t } from "./i18n.js";
import { initFormats, relabelFormats, showFormat } from "./console_formats.js";
import { initSchedules, relabelSchedule, showSchedule } from "./console_schedules.js";
import * as auditView from "./console_audit.js";
import { dateTime } from "./console_format.js";
import * as oncallView from "./console_oncall.js";
import * as settingsView from "./console_settings.js";
import * as statsView from "./console_stats.js";

let key = null;
let rooms = [];
let selected = null; // the circle whose links are shown
let made = null; // the group link just made: {url, message}

// -- the admin API ----------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The admin API; with `{full: true}`, `{data, headers}` (the audit's paging cursor is a header). */
async function api(method, path, body, { full = false } = {}) {
  let r;
  try {
    r = await fetch(path, {
      method,
      headers: { Authorization: "Bearer " + key, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(0, "offline", "offline");
  }
  const data = r.status === 204 ? null : await r.json().catch(() => null);
  if (!r.ok) {
    const err = (data && data.error) || {};
    if (r.status === 401 && key) signOut("console_key_refused");
    throw new ApiError(r.status, err.code || "default", err.message || "");
  }
  return full ? { data, headers: r.headers } : data;
}

function errorText(err) {
  const k = "err_" + (err && err.code);
  return t(k) !== k ? t(k) : t("err_default");
}

let flashTimer = 0;
function flash(text) {
  const el = $("flash");
  el.textContent = text;
  el.classList.add("on");
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { el.textContent = ""; el.classList.remove("on"); }, 6000);
}

/** Run `fn`; say what went wrong in words, never a stack. */
async function attempt(fn) {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (key) flash(errorText(err));
    return undefined;
  }
}

function confirmIt(title, text, ok) {
  const dlg = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = ok;
  dlg.returnValue = "";
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true });
    dlg.showModal();
    dlg.querySelector("button[value=cancel]").focus();
  });
}

// -- signing in ---------------------------------------------------------------------------------

function signOut(reason) {
  key = null;
  rooms = [];
  selected = null;
  made = null;
  for (const v of VIEWS) v.stop?.();
  show($("console"), false);
  show($("links"), false);
  show($("schedule"), false);
  show($("format-card"), false);
  show($("signout"), false);
  show($("signin"), true);
  $("admin-key").value = "";
  $("signin-status").textContent = reason ? t(reason) : "";
  $("signin-title").focus();
}

$("signin").addEventListener("submit", async (e) => {
  e.preventDefault();
  const given = $("admin-key").value.trim();
  if (!given) return;
  key = given;
  $("signin-status").textContent = "";
  try {
    await loadRooms();
  } catch (err) {
    key = null;
    $("signin-status").textContent = err.status === 401 ? t("console_key_refused") : errorText(err);
    $("admin-key").focus();
    return;
  }
  $("admin-key").value = "";
  show($("signin"), false);
  show($("console"), true);
  show($("signout"), true);
  $("circles-title").focus();
  await attempt(loadWaiting);
  for (const v of VIEWS) v.start?.();
});

$("signout").addEventListener("click", () => signOut(null));

// -- circles ------------------------------------------------------------------------------------

async function loadRooms() {
  rooms = await api("GET", "/api/rooms");
  renderRooms();
}

function renderRooms() {
  reconcile($("circles"), rooms, (r) => r.id, (r) =>
    h("li", { class: "item" },
      h("p", {}, h("strong", {}, r.title), " ", h("span", { class: "quiet" }, "(" + r.id + ")")),
      h("p", { class: "quiet" }, t(r.kind === "oncall" ? "console_kind_oncall" : "console_kind_circle") + " · " +
        t("console_people", { n: r.participants }) + " · ",
      h("span", { class: r.active ? "ops-badge ops-ok" : "ops-badge" }, t(r.active ? "ops_active" : "ops_quiet"))),
      h("span", { class: "row small" },
        h("button", { type: "button", class: "btn btn-small", dataset: { action: "links", focus: "links" },
          "aria-label": t("console_links_for", { title: r.title }) }, t("console_links")),
        h("button", { type: "button", class: "btn btn-small", dataset: { action: "settings", focus: "settings" },
          "aria-label": t("ops_settings_for", { title: r.title }) }, t("ops_settings")),
        // On-call rooms are always open: nothing here ends one.
        r.kind === "oncall" ? null : h("button", { type: "button", class: "btn btn-small btn-danger",
          dataset: { action: "end", focus: "end" }, "aria-label": t("console_end_for", { title: r.title }) },
        t("console_end")))));
  show($("circles-empty"), rooms.length === 0);
  for (const v of VIEWS) v.roomsChanged?.(rooms);
}

/** A room id from a name: "Tuesday evening" → "tuesday-evening" (+ a few letters if taken). */
function idFor(title) {
  const base = title.normalize("NFKD").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48);
  const stem = base || "circle";
  let id = stem;
  while (rooms.some((r) => r.id === id)) id = stem + "-" + Math.random().toString(36).slice(2, 6);
  return id;
}

$("new-circle").addEventListener("submit", async (e) => {
  e.preventDefault();
  const title = $("circle-title").value.trim();
  if (!title) return;
  const created = await attempt(() => api("POST", "/api/rooms", { id: idFor(title), title, kind: $("circle-kind").value }));
  if (!created) return;
  $("circle-title").value = "";
  flash(t("console_created", { title: created.title }));
  await attempt(loadRooms);
  select(created.id);
});

$("circles").addEventListener("click", async (e) => {
  const btn = e.target.closest("button[data-action]");
  if (!btn) return;
  const room = rooms.find((r) => r.id === btn.closest("li").dataset.key);
  if (!room) return;
  if (btn.dataset.action === "links") select(room.id);
  else if (btn.dataset.action === "settings") settingsView.open(room.id);
  else if (btn.dataset.action === "end") {
    const sure = await confirmIt(t("console_end_title", { title: room.title }), t("console_end_text"), t("console_end"));
    if (!sure) return;
    if ((await attempt(() => api("DELETE", "/api/rooms/" + room.id))) === undefined) return;
    flash(t("console_ended", { title: room.title }));
    if (selected === room.id) {
      selected = null;
      for (const card of ["links", "schedule", "format-card"]) show($(card), false);
    }
    await attempt(loadRooms);
  }
});

// -- links --------------------------------------------------------------------------------------

async function select(id) {
  selected = id;
  made = null;
  show($("made-link"), false);
  const room = rooms.find((r) => r.id === id);
  $("links-title").textContent = t("console_links_title", { title: room ? room.title : id });
  show($("links"), true);
  $("links-title").focus();
  const kind = room ? room.kind : "circle";
  await Promise.all([attempt(loadInvites), showSchedule(id, kind, room ? room.title : id), showFormat(id, kind)]);
}

function when(ms) {
  return dateTime(ms); // (numbers only where the browser has no data for the language)
}

async function loadInvites() {
  if (!selected) return;
  const invites = await api("GET", "/api/rooms/" + selected + "/invites");
  reconcile($("group-links"), invites, (i) => i.id, (i) =>
    h("li", { class: "item" },
      h("p", {}, i.max_uses ? t("console_used_of", { n: i.uses, max: i.max_uses }) : t("console_used", { n: i.uses }),
        " · ", t("console_until", { when: when(i.expires_at) })),
      h("button", { type: "button", class: "btn btn-small", dataset: { action: "revoke", focus: "revoke" } },
        t("console_revoke"))));
}

$("group-links").addEventListener("click", async (e) => {
  const btn = e.target.closest("button[data-action=revoke]");
  if (!btn || !selected) return;
  const id = btn.closest("li").dataset.key;
  if ((await attempt(() => api("DELETE", `/api/rooms/${selected}/invites/${id}`))) === undefined) return;
  flash(t("console_revoked"));
  await attempt(loadInvites);
});

$("group-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!selected) return;
  const days = Number($("group-days").value);
  const uses = $("group-uses").value ? Number($("group-uses").value) : undefined;
  const link = await attempt(() => api("POST", `/api/rooms/${selected}/invites`,
    { expires_in_s: Math.round(days * 86400), ...(uses ? { max_uses: uses } : {}) }));
  if (!link) return;
  const url = location.origin + link.path;
  const room = rooms.find((r) => r.id === selected);
  made = { url, message: t("console_whatsapp", { title: room ? room.title : selected, link: url, until: when(link.expires_at) }) };
  $("made-url").value = made.url;
  $("made-message").value = made.message;
  $("made-qr").alt = t("console_qr_alt");
  const qr = await attempt(() => api("POST", "/api/qr", { text: url }));
  if (qr) $("made-qr").src = qr.svg;
  show($("made-link"), true);
  $("made-url").focus();
  $("made-url").select();
  await attempt(loadInvites);
});

$("personal-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!selected) return;
  const name = $("personal-name").value.trim();
  const role = $("personal-role").value;
  const tok = await attempt(() => api("POST", "/api/tokens", { name, role, room: selected, ttl: 7 * 86400 }));
  if (!tok) return;
  const url = location.origin + "/#" + new URLSearchParams({ room: selected, token: tok.token }).toString();
  made = { url, message: t("console_personal_message", { name, link: url }) };
  $("made-url").value = made.url;
  $("made-message").value = made.message;
  $("made-qr").removeAttribute("src");
  $("made-qr").alt = "";
  show($("made-link"), true);
  $("made-url").focus();
  $("made-url").select();
});

async function copy(text, input, status = $("copy-status")) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    input.focus();
    input.select();
    document.execCommand("copy");
  }
  status.textContent = t("console_copied");
}
initSchedules({ api, attempt, copy });
initFormats({ api, attempt });
$("copy-link").addEventListener("click", () => made && copy(made.url, $("made-url")));
$("copy-message").addEventListener("click", () => made && copy(made.message, $("made-message")));

// -- on-call waiting -------------------------------------------------------------------------------

async function loadWaiting() {
  const waiting = await api("GET", "/api/oncall");
  reconcile($("waiting"), waiting, (w) => w.room + "/" + w.participant, (w) =>
    h("li", { class: "item" }, h("p", {}, t("console_waiting_item", {
      id: w.participant, room: w.room, minutes: Math.floor((w.waited_ms || 0) / 60000) }))));
  show($("waiting-empty"), waiting.length === 0);
}

// -- the views in modules of their own ---------------------------------------------------------------

const VIEWS = [settingsView, oncallView, statsView, auditView];
const viewContext = { api, attempt, flash, when, errorText, ApiError, rooms: () => rooms,
  reloadRooms: () => attempt(loadRooms) };
$("links").after(settingsView.section);
$("waiting-title").closest("section").after(oncallView.section, statsView.section, auditView.section);
for (const v of VIEWS) v.mount(viewContext);

// Live view while signed in: people counts and who is in each circle, who waits, who is
// on duty. Every few seconds: a coordinator watching the on-call room needs it now.
const LIVE_MS = 5000;
setInterval(() => {
  if (!key) return;
  attempt(loadRooms);
  attempt(loadWaiting);
  for (const v of VIEWS) v.tick?.();
}, LIVE_MS);

setLanguage(pickLanguage());
$("lang").value = language();
for (const v of VIEWS) v.relabel?.();
$("lang").addEventListener("change", (e) => {
  setLanguage(e.target.value, true);
  if (key) { renderRooms(); attempt(loadInvites); attempt(loadWaiting); relabelSchedule(); relabelFormats(); }
  for (const v of VIEWS) v.relabel?.();
});
$("signin-title").focus();

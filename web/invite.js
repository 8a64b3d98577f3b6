// A group invitation: `/#invite=CODE`. Whoever has the link picks the name the circle
// will see and asks to come in; the server answers with an ordinary join link of their
// own (a member's, for this circle), and the page carries on with it, in the lobby until
// a facilitator lets them in. The code stays in the fragment, which browsers never send.
//
// A listed circle's page: `/#room=ROOM` with no link of one's own (the link calendars and
// meeting lists carry). It shows the circle's next meeting and, while it is open, the
// same name form, which knocks at the circle's door instead of using a code.

import { $ } from "./dom.js";
import { formatWhen, language, t } from "./i18n.js";
import { chosenArrival, rememberArrival } from "./services.js";

const NAME_MAX = 40;

/** The invitation code in the link, or null. */
export function inviteCode(loc = window.location) {
  const code = new URLSearchParams(loc.hash.replace(/^#/, "")).get("invite");
  return code && /^[a-z0-9][a-z0-9-]{0,63}\.[A-Za-z0-9_-]{16,64}$/.test(code) ? code : null;
}

const ROOM_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
// A closed page wakes itself when the circle opens, if that is this soon.
const WAKE_WITHIN_MS = 12 * 3600 * 1000;

/** The room of a `/#room=ROOM` page without a token, or null. */
export function publicRoom(loc = window.location) {
  const hash = new URLSearchParams(loc.hash.replace(/^#/, ""));
  const room = hash.get("room");
  const token = hash.get("token") || new URLSearchParams(loc.search).get("token");
  return !token && room && ROOM_RE.test(room) ? room : null;
}

/** A moment in the reader's language and time zone: "Tuesday, 8 December, 7:00 pm" (`full`) or "7:00 pm". */
export function when(ms, full = true) {
  return formatWhen(ms, { full });
}

/** Reload at `ms` (when a circle opens), if that is within the next hours. */
export function wakeAt(ms, fn) {
  const delay = ms - Date.now();
  if (delay > 0 && delay < WAKE_WITHIN_MS) setTimeout(fn, delay + 1000);
}

/**
 * A listed circle's page. Returns false when the circle is not listed (the caller says
 * that the link needs a token), true when the page is shown.
 */
export async function showDoor(room) {
  let info = null;
  try {
    const r = await fetch("/api/rooms/" + encodeURIComponent(room) + "/public");
    if (r.ok) info = await r.json();
  } catch { /* offline: as unlisted */ }
  if (!info) return false;
  const title = $("invite-title");
  title.dataset.i18n = "door_title";
  const circle = $("invite-circle");
  circle.textContent = info.title;
  circle.hidden = false;
  const whenText = $("invite-when");
  const render = () => {
    title.textContent = t("door_title");
    if (info.open) whenText.textContent = t("door_open");
    else if (info.next) whenText.textContent = t("door_next", { time: when(info.next.start_ms), opens: when(info.next.opens_ms, false) });
    else whenText.textContent = t("door_ended");
  };
  whenText.hidden = false;
  render();
  $("lang").addEventListener("change", render);
  $("invite-join").disabled = !info.knock;
  if (!info.open && info.next) wakeAt(info.next.opens_ms, () => location.reload());
  showForm("/api/rooms/" + encodeURIComponent(room) + "/knock", {});
  return true;
}

/** Show the form; on an accepted name, reload into the room with the new link. */
export function showInvite(code) {
  showForm("/api/invites/redeem", { code });
}

function showForm(endpoint, extra) {
  const form = $("invite");
  const input = $("invite-name");
  const status = $("invite-status");
  const button = $("invite-join");
  form.hidden = false;
  $("notice").hidden = true;
  $("lang").value = language();
  input.maxLength = NAME_MAX;
  requestAnimationFrame(() => $("invite-title").focus());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = input.value.trim();
    if (!name) {
      status.textContent = t("invite_name_needed");
      input.focus();
      return;
    }
    button.disabled = true;
    status.textContent = t("invite_joining");
    let reply = null;
    try {
      const r = await fetch(endpoint, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ...extra, name }),
      });
      reply = await r.json().catch(() => null);
      if (r.ok && reply && reply.token && reply.room) {
        rememberArrival(reply.room, chosenArrival("invite-arrival"));
        const params = new URLSearchParams({ room: reply.room, token: reply.token });
        history.replaceState(null, "", "/#" + params.toString());
        location.reload();
        return;
      }
    } catch {
      reply = { error: { code: "offline" } };
    }
    button.disabled = false;
    const codeOf = (reply && reply.error && reply.error.code) || "default";
    if (codeOf === "locked" && reply.opens_at) {
      button.disabled = true;
      status.textContent = t("closed_text", { opens: when(reply.opens_at) });
      wakeAt(reply.opens_at, () => location.reload());
      return;
    }
    const key = "invite_err_" + codeOf;
    status.textContent = t(key) !== key ? t(key) : t("err_default");
  });
}

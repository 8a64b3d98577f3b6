// A group invitation: `/#invite=CODE`. Whoever has the link picks the name the circle
// will see and asks to come in; the server answers with an ordinary join link of their
// own (a member's, for this circle), and the page carries on with it, in the lobby until
// a facilitator lets them in. The code stays in the fragment, which browsers never send.

import { $ } from "./dom.js";
import { language, t } from "./i18n.js";

const NAME_MAX = 40;

/** The invitation code in the link, or null. */
export function inviteCode(loc = window.location) {
  const code = new URLSearchParams(loc.hash.replace(/^#/, "")).get("invite");
  return code && /^[a-z0-9][a-z0-9-]{0,63}\.[A-Za-z0-9_-]{16,64}$/.test(code) ? code : null;
}

/** Show the form; on an accepted name, reload into the room with the new link. */
export function showInvite(code) {
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
      const r = await fetch("/api/invites/redeem", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code, name }),
      });
      reply = await r.json().catch(() => null);
      if (r.ok && reply && reply.token && reply.room) {
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
    const key = "invite_err_" + codeOf;
    status.textContent = t(key) !== key ? t(key) : t("err_default");
  });
}

// "My attendance": a member's own meetings (date, minutes, whether they shared), the
// summary line, their follow-up choice, and erasing it all. Only ever their own: the
// server answers for the token's id and takes no one else's.

import { $, h, show } from "./dom.js";
import { language, t } from "./i18n.js";

function dayText(date) {
  const d = new Date(date + "T12:00:00Z");
  try {
    return d.toLocaleDateString(language(), { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
  } catch {
    return date;
  }
}

/** Wire the card; `call(event, payload)` sends over the live connection, `ask` confirms. */
export function initAttendance(call, ask, flash) {
  let open = false;
  let last = null;

  function draw() {
    const toggle = $("att-toggle");
    toggle.dataset.i18n = open ? "att_hide" : "att_open";
    toggle.textContent = t(toggle.dataset.i18n);
    toggle.setAttribute("aria-expanded", String(open));
    show($("att-body"), open && !!last);
    if (!last) return;
    const on = last.enabled;
    const list = $("att-list");
    list.replaceChildren(...(last.meetings || []).map((m) =>
      h("li", { dataset: { date: m.date } }, dayText(m.date), " · ", t("att_minutes", { n: m.minutes }),
        m.shared ? " · " + t("att_shared") : "")));
    $("att-summary").textContent = !on ? t("att_off")
      : last.meetings.length ? t("att_summary", { came: last.came, of: last.of }) : t("att_none");
    $("att-private").textContent = on ? t("att_private", { days: last.retention_days }) : "";
    show($("att-follow-row"), on);
    show($("att-erase"), on && last.meetings.length > 0);
    $("att-follow").checked = !!last.follow_up;
  }

  async function load() {
    const ack = await call("attendance.mine", {});
    if (ack && ack.ok) last = ack;
    else flash("att_failed");
    draw();
  }

  $("att-toggle").addEventListener("click", async () => {
    open = !open;
    if (open) await load();
    else draw();
  });
  $("att-follow").addEventListener("change", async (e) => {
    const ack = await call("attendance.follow_up", { on: e.target.checked });
    if (!ack || !ack.ok) {
      e.target.checked = !e.target.checked;
      flash("att_failed");
    } else if (last) {
      last.follow_up = ack.on;
    }
  });
  $("att-erase").addEventListener("click", async () => {
    const answer = await ask({ title: t("att_erase_title"), text: t("att_erase_text"), ok: t("att_erase_ok") });
    if (!answer.ok) return;
    const ack = await call("attendance.erase", {});
    if (ack && ack.ok) {
      flash("att_erased");
      await load();
    } else {
      flash("att_failed");
    }
  });
  return { redraw: () => { if (open) draw(); } };
}

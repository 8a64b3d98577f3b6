// The staff console's choice of a circle's meeting format: one of the templates (the
// shipped ones and the centre's own `[[formats]]`), or none. The admin API it speaks:
// GET /api/formats, PUT/GET/DELETE /api/rooms/{id}/format (docs/protocol.md §9).

import { $, h, show } from "./dom.js";
import { language, t } from "./i18n.js";

let deps = null; // {api, attempt}
let room = null;
let templates = [];
let current = null; // the circle's format (RoomFormat) or null

function textOf(text) {
  return (text && (text[language()] || text.en)) || "";
}

function render() {
  const select = $("fmt-template");
  const chosen = select.value || (current ? current.id : "");
  select.replaceChildren(...templates.map((f) =>
    h("option", { value: f.id }, t("cfmt_option", { name: textOf(f.name), minutes: f.minutes, parts: f.segments }))));
  if (templates.some((f) => f.id === chosen)) select.value = chosen;
  const now = $("fmt-current");
  if (!current) now.textContent = t("cfmt_none");
  else now.textContent = t(current.running ? "cfmt_running" : "cfmt_current", { name: textOf(current.name) });
  show($("fmt-remove"), !!current);
  $("fmt-use").disabled = !!(current && current.running);
}

/** Show the format of `id` (hidden for an on-call room). */
export async function showFormat(id, kind) {
  room = id;
  show($("format-card"), kind !== "oncall");
  $("fmt-status").textContent = "";
  if (kind === "oncall") return;
  const [list, mine] = await Promise.all([
    deps.attempt(() => deps.api("GET", "/api/formats")),
    deps.attempt(async () => {
      try {
        return await deps.api("GET", "/api/rooms/" + id + "/format");
      } catch (err) {
        if (err.status === 404) return null;
        throw err;
      }
    }),
  ]);
  if (room !== id) return;
  templates = list || [];
  current = mine === undefined ? null : mine;
  $("fmt-template").value = current ? current.id : "";
  render();
}

export function initFormats(given) {
  deps = given;
  $("fmt-use").addEventListener("click", async () => {
    if (!room) return;
    const status = $("fmt-status");
    try {
      current = await deps.api("PUT", "/api/rooms/" + room + "/format", { template: $("fmt-template").value });
      status.textContent = t("cfmt_saved", { name: textOf(current.name) });
    } catch (err) {
      status.textContent = err.code === "conflict" ? t("cfmt_busy") : t("err_default");
    }
    render();
  });
  $("fmt-remove").addEventListener("click", async () => {
    if (!room) return;
    if ((await deps.attempt(() => deps.api("DELETE", "/api/rooms/" + room + "/format"))) === undefined) return;
    current = null;
    $("fmt-status").textContent = t("cfmt_removed");
    render();
  });
}

/** The language changed: the templates' names follow it. */
export function relabelFormats() {
  if (room && !$("format-card").hidden) render();
}

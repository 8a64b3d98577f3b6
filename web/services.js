// Services handed to members for a meeting (chair, timekeeper, greeter), and the way in:
// the circle's guidelines to accept, and "I'm new" / "I'm coming back after a while".
//
// A member with a service gets a small panel with exactly its powers: the chair gives
// the floor and runs rounds, the timekeeper adds time to a share, the greeter keeps the
// lobby (and sees who is new). Rendering here; the server decides (docs/protocol.md).

import { $, h, reconcile, setText, show } from "./dom.js";
import { t } from "./i18n.js";

export const SERVICES = ["chair", "timekeeper", "greeter"];
const EXTEND_S = 60;

/** The service the person on this page holds now, or null. */
export function myService(ctx) {
  const p = ctx.state.participants.get(ctx.me.id);
  return (p && p.service) || null;
}

/** Staff, or the chair: may give the floor. */
export function mayGiveFloor(ctx, staff) {
  return staff || myService(ctx) === "chair";
}

/** Staff, or a greeter: sees the lobby and who said they are new or coming back. */
export function keepsDoor(ctx, staff) {
  return staff || myService(ctx) === "greeter";
}

/** The badge of a person's service, seen by everyone. */
export function serviceBadge(p) {
  return p.service ? h("span", { class: "badge badge-service" }, t("svc_" + p.service)) : null;
}

/** "New" / "Coming back" for staff and greeters; null for anyone else. */
export function arrivalTag(ctx, staff, pid, arrival) {
  const a = arrival || ctx.state.arrivals.get(pid);
  return a && keepsDoor(ctx, staff) ? h("span", { class: "tag tag-arrival" }, t("arrival_" + a)) : null;
}

/** A facilitator's choice of service for one member. */
export function serviceSelect(p) {
  const select = h("select", { class: "service-select", dataset: { action: "service", focus: "service" },
    "aria-label": t("svc_for", { name: p.name }) },
  h("option", { value: "" }, t("svc_none")),
  ...SERVICES.map((s) => h("option", { value: s }, t("svc_" + s))));
  select.value = p.service || "";
  // isEqualNode compares attributes, not the live value: mark the choice so a change re-renders.
  select.dataset.value = p.service || "";
  for (const o of select.options) if (o.value === select.value) o.setAttribute("selected", "");
  return select;
}

export function renderService(ctx, staff) {
  const { state } = ctx;
  const service = staff ? null : myService(ctx);
  show($("service"), !!service);
  if (!service) return;
  setText($("service-title"), t("svc_you_" + service));
  setText($("service-text"), t("svc_text_" + service));
  show($("svc-chair"), service === "chair");
  show($("svc-timekeeper"), service === "timekeeper");
  show($("svc-greeter"), service === "greeter");
  if (service === "chair") {
    $("svc-next").disabled = !!state.floor || state.queue.length === 0;
    show($("svc-round-start"), !state.round);
    show($("svc-round-stop"), !!state.round);
  } else if (service === "timekeeper") {
    $("svc-extend").disabled = !(state.floor && state.floor.deadline);
  } else {
    const lobby = [...state.lobby.values()];
    reconcile($("svc-lobby"), lobby, (p) => p.id, (p) =>
      h("li", { class: "item" },
        h("span", { class: "name" }, p.name), " ", arrivalTag(ctx, staff, p.id, p.arrival),
        h("span", { class: "row small" },
          h("button", { type: "button", class: "btn btn-small btn-primary", dataset: { action: "admit", focus: "admit" } },
            t("admit")),
          h("button", { type: "button", class: "btn btn-small", dataset: { action: "deny", focus: "deny" } }, t("deny")))));
    show($("svc-lobby-empty"), lobby.length === 0);
  }
}

/** Wire the service panel's buttons (`act(event, payload)` sends and reports). */
export function initService(ctx, act) {
  $("svc-next").addEventListener("click", () => {
    if (ctx.state.queue.length) act("floor.grant", { participant: ctx.state.queue[0] });
  });
  $("svc-round-start").addEventListener("click", () => act("round.start", {}));
  $("svc-round-stop").addEventListener("click", () => act("round.stop", {}));
  $("svc-extend").addEventListener("click", () => act("floor.extend", { seconds: EXTEND_S }, "svc_extended"));
  $("svc-lobby").addEventListener("click", (e) => {
    const btn = e.target.closest("[data-action]");
    if (!btn) return;
    const pid = btn.closest("li").dataset.key;
    act(btn.dataset.action === "admit" ? "lobby.admit" : "lobby.deny", { participant: pid });
  });
}

// -- the way in ------------------------------------------------------------------------------

const ARRIVAL_KEY = "circles.arrival.";

/** What this person said on the way in to `room` on this page ("new", "returning" or null). */
export function arrivalFor(room) {
  try { return sessionStorage.getItem(ARRIVAL_KEY + room) || null; } catch { return null; }
}

export function rememberArrival(room, arrival) {
  try {
    if (arrival) sessionStorage.setItem(ARRIVAL_KEY + room, arrival);
  } catch { /* private mode: asked again */ }
}

/** The chosen radio of an arrival group ("new", "returning" or ""). */
export function chosenArrival(name) {
  const checked = document.querySelector(`input[name="${name}"]:checked`);
  return checked ? checked.value : "";
}

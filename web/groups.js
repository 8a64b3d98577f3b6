// Small groups (issue 17): a facilitator splits the circle into small groups for a set
// time. A member's page moves to their group's room (with the token `groups.moved`
// brings) and back to the circle when time is up (`groups.returned`, or the group's
// room ending), where their place in the queue waits for them. Rendering, the
// facilitator's "Small groups" tools and the moves; the server decides
// (docs/protocol.md).

import { $, clock, h, reconcile, setText, show } from "./dom.js";
import { t } from "./i18n.js";

// The way back to the circle, kept by this tab while it is in a group: {room, token};
// and, on the way back, which circle to say "welcome back" in.
const HOME_KEY = "circles.groups.home";
const BACK_KEY = "circles.groups.back";
const DEFAULT_MINUTES = 10;
const COUNT = { lo: 2, hi: 20 };
const MINUTES = { lo: 1, hi: 120 };

let going = false; // this page is on its way to another room

/** This page's room is a small group: a circle made from another. */
export function isGroupRoom(state) {
  return state.kind === "circle" && !!state.parent;
}

/** The group (1-based number and room) someone of the circle is away in, or null. */
export function groupOf(state, pid) {
  const split = state.groups;
  if (!split) return null;
  const i = split.groups.findIndex((g) => g.participants.includes(pid));
  return i < 0 ? null : { n: i + 1, room: split.groups[i].room };
}

/** Another room with its token: the link is the page's, so the page starts again there. */
function goTo(room, token) {
  going = true;
  history.replaceState(null, "", location.pathname + location.search + "#" + new URLSearchParams({ room, token }));
  location.reload();
}

function readHome() {
  try {
    const home = JSON.parse(sessionStorage.getItem(HOME_KEY) || "null");
    return home && home.room && home.token ? home : null;
  } catch {
    return null;
  }
}

/** `groups.moved`: keep the way back to the circle, then go to the group. */
export function moveToGroup(link, data) {
  if (going || !data.token) return;
  try {
    sessionStorage.setItem(HOME_KEY, JSON.stringify({ room: data.from_room, token: link.token }));
  } catch { /* private mode: the way back is the member's own link */ }
  goTo(data.room, data.token);
}

/** Back to the circle `room` (the group is over). False when this page has no way back
 * (a facilitator looking in from a tab of its own). */
export function goHome(room) {
  if (going) return true;
  const home = readHome();
  if (!home || home.room !== room) return false;
  sessionStorage.removeItem(HOME_KEY);
  sessionStorage.setItem(BACK_KEY, home.room);
  goTo(home.room, home.token);
  return true;
}

/** Whether this page has just come back from a small group to `room` (asked once). */
export function cameBack(room) {
  try {
    const back = sessionStorage.getItem(BACK_KEY);
    sessionStorage.removeItem(BACK_KEY);
    return back === room;
  } catch {
    return false;
  }
}

// -- rendering ----------------------------------------------------------------------------------

function minutesLeft(ms) {
  return ms < 60000 ? t("grp_left_less") : t("grp_left", { n: Math.ceil(ms / 60000) });
}

/** The banner: in a group, its time and the way back; in a split circle, when all come back. */
export function renderGroupBanner(ctx) {
  const { state } = ctx;
  const inGroup = isGroupRoom(state) && !!state.endsAt;
  const split = !inGroup && !!state.groups;
  show($("group-banner"), inGroup || split);
  if (!inGroup && !split) return;
  const left = (inGroup ? state.endsAt : state.groups.ends_at) - state.now();
  const over = inGroup && left <= 0;
  setText($("group-banner-title"), inGroup ? t("grp_banner") : t("grp_circle_split"));
  setText($("group-banner-time"), over ? t("grp_time_up")
    : inGroup ? minutesLeft(left) : t("grp_back_in", { time: clock(left) }));
  let who = "";
  if (inGroup) {
    const others = [...state.participants.values()].filter((p) => p.id !== ctx.me.id).map((p) => p.name);
    who = others.length ? t("grp_with", { names: others.join(", ") }) : "";
  } else {
    const mine = groupOf(state, ctx.me.id);
    if (mine) who = t("grp_you_are_in", { n: mine.n });
  }
  setText($("group-banner-who"), who);
  $("group-banner").classList.toggle("ending", inGroup && (state.groupWarned || left <= 60000));
  // When time is up and the page has not gone back by itself: the way back, by hand.
  show($("group-back"), over && !!readHome());
}

/** The facilitator's "Small groups" tools in a circle: the form, or the groups running. */
export function renderGroupTools(ctx) {
  const { state, ui } = ctx;
  const here = state.kind === "circle" && !state.parent;
  show($("groups-tools"), here);
  if (!here) return;
  const split = state.groups;
  show($("groups-form"), !split);
  show($("groups-live"), !!split);
  if (split) {
    setText($("grp-time"), t("grp_back_in", { time: clock(split.ends_at - state.now()) }));
    const items = split.groups.map((g, i) => ({ ...g, n: i + 1 }));
    reconcile($("grp-list"), items, (g) => g.room, (g) => {
      const label = t("grp_name", { n: g.n });
      return h("li", { class: "item group-item" },
        h("p", {}, h("strong", {}, label), " · ",
          h("span", {}, g.participants.map((pid) => ctx.state.nameOf(pid) || t("someone")).join(", "))),
        h("span", { class: "row small" },
          h("button", { type: "button", class: "btn btn-small", dataset: { action: "visit", focus: "visit" },
            "aria-label": t("act_on", { action: t("grp_visit"), name: label }) }, t("grp_visit"))));
    });
    return;
  }
  const count = countWanted();
  const people = assignable(ctx);
  const plan = ui.groupPlan || (ui.groupPlan = new Map());
  reconcile($("grp-assign"), people, (p) => p.id, (p) => {
    const choice = String(plan.has(p.id) ? plan.get(p.id) : dealt(people, p, count));
    const id = "grp-for-" + p.id;
    const select = h("select", { id, class: "group-select", dataset: { action: "assign", focus: "assign", value: choice } },
      h("option", { value: "0" }, t("grp_stay")),
      ...Array.from({ length: count }, (_, i) => h("option", { value: String(i + 1) }, t("grp_name", { n: i + 1 }))));
    select.value = choice;
    for (const o of select.options) if (o.value === choice) o.setAttribute("selected", "");
    select.setAttribute("aria-label", t("grp_for", { name: p.name }));
    return h("li", { class: "item assign-item" }, h("label", { for: id }, p.name), select);
  });
  show($("grp-assign-empty"), people.length === 0);
}

/** Who a facilitator may send to a group by hand: everyone connected but themselves (who
 * keeps the circle's time; any group is theirs to look in on). Staff start in the circle. */
function assignable(ctx) {
  return [...ctx.state.participants.values()].filter((p) => p.connected && p.id !== ctx.me.id)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** The group the server would deal `p` to (members in id order, in turn); staff stay. */
function dealt(people, p, count) {
  if (p.role !== "member") return 0;
  const members = people.filter((q) => q.role === "member");
  return (members.indexOf(p) % count) + 1;
}

function countWanted() {
  const n = parseInt($("grp-count").value, 10);
  return Math.min(COUNT.hi, Math.max(COUNT.lo, Number.isFinite(n) ? n : COUNT.lo));
}

function minutesWanted() {
  const n = parseInt($("grp-minutes").value, 10);
  return Math.min(MINUTES.hi, Math.max(MINUTES.lo, Number.isFinite(n) ? n : DEFAULT_MINUTES));
}

// -- the facilitator's controls -----------------------------------------------------------------

/** Wire the tools: `act(event, payload, okNote)` sends and reports, `update()` renders,
 * `flash(key, params)` says how it went, `errorText(error)` words a refusal. */
export function initGroups(ctx, { act, update, flash, errorText }) {
  $("grp-minutes").value = String(DEFAULT_MINUTES);
  $("grp-count").addEventListener("input", update);
  $("grp-assign").addEventListener("change", (e) => {
    const select = e.target.closest("select[data-action=assign]");
    if (!select) return;
    (ctx.ui.groupPlan || (ctx.ui.groupPlan = new Map())).set(select.closest("li").dataset.key, Number(select.value));
    update();
  });
  $("groups-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const count = countWanted();
    const minutes = minutesWanted();
    let payload = { count, minutes };
    if ($("grp-byhand").open) {
      const people = assignable(ctx);
      const plan = ctx.ui.groupPlan || new Map();
      const groups = Array.from({ length: count }, () => []);
      for (const p of people) {
        const n = plan.has(p.id) ? plan.get(p.id) : dealt(people, p, count);
        if (n > 0 && n <= count) groups[n - 1].push(p.id);
      }
      payload = { groups: groups.filter((g) => g.length), minutes };
      if (!payload.groups.length) { flash("grp_nobody"); return; }
    }
    const ack = await ctx.conn.call("groups.start", { room: ctx.state.id, ...payload });
    if (ack.ok) {
      ctx.ui.groupPlan = new Map();
      flash("grp_started");
      requestAnimationFrame(() => $("grp-end").focus());
    } else if (ack.error && ack.error.code === "conflict" && !ctx.state.groups) {
      flash("grp_too_few");
    } else {
      flash("action_failed", { message: errorText(ack.error) });
    }
    update();
  });
  $("grp-end").addEventListener("click", async () => {
    const ack = await act("groups.end", {}, "grp_ended_flash");
    if (ack.ok) requestAnimationFrame(() => $("grp-start").focus());
  });
  $("grp-list").addEventListener("click", async (e) => {
    const btn = e.target.closest("[data-action=visit]");
    if (!btn) return;
    // Opened now, while this is still the click (a window opened after the answer is a pop-up).
    const win = window.open("about:blank", "_blank");
    const ack = await ctx.conn.call("groups.visit", { room: ctx.state.id, group: btn.closest("li").dataset.key });
    if (ack.ok && win) {
      win.opener = null;
      win.location.href = "/#" + new URLSearchParams({ room: ack.room, token: ack.token });
    } else {
      if (win) win.close();
      if (!ack.ok) flash("action_failed", { message: errorText(ack.error) });
    }
  });
  $("group-back").addEventListener("click", () => {
    if (!goHome(ctx.state.parent)) update();
  });
}

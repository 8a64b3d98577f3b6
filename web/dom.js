// Small DOM helpers. Text always goes in through textContent (never innerHTML), so a
// name or a message can never become markup.

export const $ = (id) => document.getElementById(id);

/** h("button", {class: "btn", dataset: {action: "give"}}, "Give floor") */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function show(el, on) {
  el.hidden = !on;
}

export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/**
 * Make `parent`'s children match `items`, keyed by `keyOf(item)`.
 *
 * An element whose fresh rendering is identical is kept as it is, so focus, scroll and
 * screen-reader position survive re-renders; a changed one is replaced, and if focus
 * was inside it, focus moves to the element with the same `data-focus` in the new one.
 * Click handling is by delegation on the parent (`data-action`), so nothing is lost
 * when an element is replaced.
 */
export function reconcile(parent, items, keyOf, build) {
  const old = new Map();
  for (const el of parent.children) old.set(el.dataset.key, el);
  const active = document.activeElement;
  let refocus = null;
  let prev = null;
  for (const item of items) {
    const key = String(keyOf(item));
    const fresh = build(item);
    fresh.dataset.key = key;
    let el = old.get(key);
    old.delete(key);
    if (!el || !el.isEqualNode(fresh)) {
      if (el) {
        if (active && el.contains(active)) refocus = { fresh, focus: active.dataset.focus };
        el.remove();
      }
      el = fresh;
    }
    const want = prev ? prev.nextSibling : parent.firstChild;
    if (el !== want) parent.insertBefore(el, want);
    prev = el;
  }
  for (const el of old.values()) el.remove();
  if (refocus) {
    const target = (refocus.focus && refocus.fresh.querySelector(`[data-focus="${refocus.focus}"]`))
      || refocus.fresh.querySelector("button, a, input") || null;
    if (target) target.focus();
  }
}

/** mm:ss for a duration in ms (never negative). */
export function clock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}

/** A stable soft colour (0-7) for a participant's initial. */
export function hue(id) {
  let x = 0;
  for (const ch of String(id)) x = (x * 31 + ch.charCodeAt(0)) >>> 0;
  return x % 8;
}

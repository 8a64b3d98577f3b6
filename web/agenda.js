// The meeting format: the agenda (the part now, its time left, what comes next, the whole
// plan), the reading card, and the facilitator's controls. Rendering only; app.js handles
// the clicks. Titles and readings come from the snapshot (never from events), in the
// reader's language, falling back to English.

import { $, clock, h, reconcile, setText, show } from "./dom.js";
import { language, t } from "./i18n.js";
import { myService } from "./services.js";

/** A format text ({en, hi?, pa?}) in the reader's language: [text, its language]. */
export function inLanguage(text) {
  if (!text) return ["", "en"];
  const lang = language();
  return text[lang] ? [text[lang], lang] : [text.en || "", "en"];
}

function title(seg) {
  return seg ? inLanguage(seg.title)[0] : "";
}

function nameOf(ctx, id) {
  return ctx.state.nameOf(id) || t("someone");
}

/** Whether this person runs the meeting: staff, or the member made its chair. */
function mayRun(ctx) {
  const role = ctx.me.role;
  return role === "facilitator" || (role === "responder" && ctx.state.kind === "oncall") || myService(ctx) === "chair";
}

/** The index of the part a reader could be named for now, or null. */
function readerFor(f) {
  const i = f.next_index;
  return i !== null && i !== undefined && f.segments[i] && f.segments[i].kind === "reading" ? i : null;
}

export function renderAgenda(ctx) {
  const { state, ui } = ctx;
  const f = state.format;
  show($("agenda"), !!f);
  if (!f) return;
  const seg = state.currentPart();
  const free = f.free_until !== null && f.free_until !== undefined;
  let part = "";
  let now = "";
  let timer = "";
  let note = "";
  let over = false;
  if (seg) {
    part = t("fmt_part_of", { n: f.index + 1, total: f.segments.length });
    now = title(seg);
    const remaining = Math.max(0, f.ends_at - state.now());
    over = remaining <= 0 || ui.overtime === f.index;
    timer = over ? t("fmt_over") : t("fmt_time_left", { time: clock(remaining) });
    // The welcome names how many are new today, never who.
    if (f.index === 0 && state.newcomers > 0) {
      note = state.newcomers === 1 ? t("fmt_newcomer_one") : t("fmt_newcomers", { n: state.newcomers });
    }
  } else if (free) {
    now = t("fmt_free");
    timer = t("fmt_time_left", { time: clock(Math.max(0, f.free_until - state.now())) });
    note = t("fmt_free_text");
  } else {
    now = t("fmt_not_started");
  }
  setText($("agenda-part"), part);
  setText($("agenda-now"), now);
  setText($("agenda-timer"), timer);
  setText($("agenda-note"), note);
  const box = $("agenda-box");
  box.classList.toggle("running", !!seg);
  box.classList.toggle("free", free);
  box.classList.toggle("over", over);

  let next = "";
  if (f.running && f.next_index !== null && f.next_index !== undefined) {
    next = t("fmt_next", { title: title(f.segments[f.next_index]) });
  } else if (!f.running) {
    next = t("fmt_first", { title: title(f.segments[0]) });
  } else if (seg) {
    next = f.free_minutes > 0 ? t("fmt_next", { title: t("fmt_free") }) : t("fmt_last");
  }
  setText($("agenda-next"), next);

  renderControls(ctx, f, free);
  renderList(f, free);
}

function renderControls(ctx, f, free) {
  const runs = mayRun(ctx);
  show($("agenda-controls"), runs);
  if (!runs) return;
  show($("btn-fmt-start"), !f.running);
  show($("btn-fmt-next"), f.running && !free);
  show($("btn-fmt-end"), f.running);
  const readIndex = readerFor(f);
  show($("agenda-reader-field"), readIndex !== null);
  if (readIndex === null) return;
  setText($("agenda-reader-label"), `${t("fmt_reader")}: ${title(f.segments[readIndex])}`);
  const people = [...ctx.state.participants.values()].filter((p) => p.connected && !p.muted);
  const options = [{ id: "", name: t("fmt_reader_none") }, ...people];
  const select = $("agenda-reader");
  const chosen = select.value;
  reconcile(select, options, (p) => p.id || "-", (p) => h("option", { value: p.id }, p.name));
  select.value = options.some((p) => p.id === chosen) ? chosen : "";
}

function renderList(f, free) {
  const items = f.segments.map((seg, i) => ({ seg, i }));
  if (f.free_minutes > 0) items.push({ seg: null, i: f.segments.length });
  reconcile($("agenda-list"), items, (x) => `${x.i}:${language()}`, ({ seg, i }) => {
    const current = seg ? f.index === i : free;
    const done = free ? !!seg : f.running && f.index !== null && i < f.index;
    const label = seg ? title(seg) : t("fmt_free_item", { n: f.free_minutes });
    return h("li", { class: "agenda-item" + (current ? " now" : "") + (done ? " done" : ""),
      "aria-current": current ? "step" : null },
      h("span", { class: "agenda-mark", "aria-hidden": "true" }, done ? "✓" : current ? "▶" : ""),
      h("span", { class: "agenda-item-title" }, label,
        done ? h("span", { class: "visually-hidden" }, ` (${t("fmt_state_done")})`) : null,
        current ? h("span", { class: "visually-hidden" }, ` (${t("fmt_state_now")})`) : null),
      seg ? h("span", { class: "agenda-item-meta" }, `${t("fmt_kind_" + seg.kind)} · ${t("fmt_minutes", { n: seg.minutes })}`)
        : null);
  });
}

export function renderReading(ctx) {
  const seg = ctx.state.currentPart();
  const reading = !!seg && seg.kind === "reading" && !!seg.text;
  show($("reading"), reading);
  if (!reading) return;
  const [head, headLang] = inLanguage(seg.title);
  const [text, textLang] = inLanguage(seg.text);
  setText($("reading-title"), head);
  $("reading-title").lang = headLang;
  const reader = ctx.state.format.reader_id;
  setText($("reading-reader"), reader ? t("fmt_read_by", { name: nameOf(ctx, reader) }) : "");
  const box = $("reading-text");
  box.lang = textLang;
  reconcile(box, readingBlocks(text), (b) => `${b.key}:${textLang}`, (b) =>
    b.items ? h("ul", {}, b.items.map((item) => h("li", {}, item))) : h("p", {}, b.text));
}

/** A reading as blocks: paragraphs (separated by a blank line) and lists (lines that
 * start with "- "), each keyed by its place. */
export function readingBlocks(text) {
  const blocks = [];
  for (const para of text.split(/\n\s*\n/)) {
    let lines = [];
    let items = [];
    const flush = () => {
      if (lines.length) blocks.push({ key: "p" + blocks.length, text: lines.join("\n") });
      if (items.length) blocks.push({ key: "l" + blocks.length, items });
      lines = [];
      items = [];
    };
    for (const raw of para.split("\n")) {
      const line = raw.trim();
      if (!line) continue;
      if (line.startsWith("- ")) {
        if (lines.length) { blocks.push({ key: "p" + blocks.length, text: lines.join("\n") }); lines = []; }
        items.push(line.slice(2));
      } else {
        if (items.length) { blocks.push({ key: "l" + blocks.length, items }); items = []; }
        lines.push(line);
      }
    }
    flush();
  }
  return blocks;
}

/** The chat log's note for a format event, in the reader's language. */
export function formatNote(ctx, e) {
  const f = ctx.state.format;
  if (e.kind === "format") {
    const seg = f && f.segments[e.index];
    return seg ? t("fmt_now", { title: title(seg) }) : "";
  }
  if (e.kind === "format-free") return `${t("fmt_free")}: ${t("fmt_free_text")}`;
  if (e.kind === "format-ended") return t("fmt_ended");
  if (e.kind === "format-milestones") return t("fmt_milestones");
  return "";
}

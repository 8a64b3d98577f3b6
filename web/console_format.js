// Dates, weekdays and durations for the staff console in the page's language.
//
// The browser's Intl data may lack a language (Debian's Chromium has no Punjabi: it writes
// "2026 M12 5" and "Mon"), so weekday and unit names come from i18n.js, and dates and
// times fall back to numbers only (5/12/2026, 17:13), which read the same in any language.

import { language, t } from "./i18n.js";

const hasData = new Map();

/** Whether the browser can name months in the page's language (it calls December "M12"
 * when it only pretends to: supportedLocalesOf says yes all the same). */
function named() {
  const lang = language();
  if (!hasData.has(lang)) {
    const december = new Intl.DateTimeFormat(lang, { month: "short", timeZone: "UTC" }).format(Date.UTC(2024, 11, 15));
    hasData.set(lang, !/^M\d+$/.test(december));
  }
  return hasData.get(lang);
}

function locale() {
  return named() ? language() : "en-GB";
}

/** A moment: "5 Dec 2026, 17:13" (or "5/12/2026, 17:13" where the language has no data). */
export function dateTime(ms) {
  const options = named() ? { dateStyle: "medium", timeStyle: "short" } :
    { day: "numeric", month: "numeric", year: "numeric", hour: "2-digit", minute: "2-digit" };
  return new Date(ms).toLocaleString(locale(), { ...options, hourCycle: "h23" });
}

/** A time of day: "17:13". */
export function time(ms) {
  return new Date(ms).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

/** The name of ISO weekday `d` (1 = Monday .. 7 = Sunday), long or short. */
export function dayName(d, style = "long") {
  return t((style === "long" ? "ops_day_" : "ops_dshort_") + d);
}

/** A calendar day "2026-03-02" as "Mon 2/3". */
export function dayLabel(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay() || 7;
  const date = new Intl.DateTimeFormat(locale(), { day: "numeric", month: "numeric", timeZone: "UTC" })
    .format(Date.UTC(y, m - 1, d));
  return `${dayName(weekday, "short")} ${date}`;
}

/** A wait: "42.5 sec", "3.2 min", "1.5 hr"; "—" for none. */
export function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  const [value, key] = ms < 60_000 ? [ms / 1000, "ops_n_seconds"] : ms < 3_600_000 ? [ms / 60_000, "ops_n_minutes"]
    : [ms / 3_600_000, "ops_n_hours"];
  return t(key, { n: new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(value) });
}

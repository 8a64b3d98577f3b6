// The join link: `/#room=ROOM&token=JWT` (or `?token=...&room=...`).
//
// The token stays in the fragment, which browsers never send to a server; a token that
// came in the query string is moved there, so it leaves no trace in Referer headers or
// proxy logs and a reload still works.

const ROOM_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Decode a JWT's claims without checking the signature (the server does that). */
export function claimsOf(token) {
  try {
    const part = token.split(".")[1];
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

/**
 * What the link asks for: {token, room, claims}, or {error} when it cannot work.
 * error: "no_token" | "bad_token" | "no_room".
 */
export function readLink(loc = window.location) {
  const hash = new URLSearchParams(loc.hash.replace(/^#/, ""));
  const query = new URLSearchParams(loc.search);
  const token = hash.get("token") || query.get("token") || "";
  let room = hash.get("room") || query.get("room") || "";
  if (query.has("token")) {
    const moved = new URLSearchParams(hash);
    moved.set("token", token);
    if (room) moved.set("room", room);
    query.delete("token");
    query.delete("room");
    const search = query.toString();
    history.replaceState(null, "", loc.pathname + (search ? "?" + search : "") + "#" + moved.toString());
  }
  if (!token) return { error: "no_token" };
  const claims = claimsOf(token);
  if (!claims || typeof claims.sub !== "string") return { error: "bad_token" };
  if (!room && typeof claims.room === "string" && claims.room !== "*") room = claims.room;
  if (!ROOM_RE.test(room)) return { error: "no_room", token, claims };
  return { token, room, claims };
}

/** A link to another room with the same token, when the token admits it; else null. */
export function linkTo(room, token, claims) {
  if (!claims || !(claims.room === "*" || claims.room === room)) return null;
  const params = new URLSearchParams({ room, token });
  return "/#" + params.toString();
}

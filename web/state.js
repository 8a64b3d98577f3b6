// The room as this client knows it: a snapshot from `join`, then every `room.event`
// applied in `seq` order. Nothing here touches the DOM or the network.

// Entries kept in the chat log. The server's snapshot carries the last 50 messages; a
// long meeting on a phone should not grow without bound either.
const LOG_KEEP = 400;

export class RoomState {
  constructor() {
    this.names = new Map(); // id -> display name; outlives departures so old messages keep a name
    this.offset = 0; // estimated server clock minus local clock, ms
    this.offsetKnown = false;
    this.clear();
  }

  clear() {
    this.loaded = false;
    this.id = "";
    this.title = "";
    this.parent = null;
    this.kind = "circle";
    this.settings = {};
    this.seq = 0;
    this.participants = new Map();
    this.queue = [];
    this.floor = null;
    this.round = null;
    this.log = [];
    this.lobby = new Map();
    this.held = new Map();
    // Who said they are new or coming back (participant id -> arrival): staff and greeters only.
    this.arrivals = new Map();
    this.newcomers = 0;
    // A circle in small groups: {ends_at, groups: [{room, participants}]}; a group's room:
    // when its time is up, and whether its last minute was announced.
    this.groups = null;
    this.endsAt = null;
    this.groupWarned = false;
    this.ended = false;
    this.format = null; // the meeting format and where the meeting is (the snapshot's `format`)
    this.formatStale = false; // format.changed: read it again (format.get)
  }

  /** Server time now, in ms since the epoch, as well as we can tell. */
  now() {
    return Date.now() + this.offset;
  }

  /** Learn the clock offset from a live event: its `at` was no later than now. */
  observeClock(at) {
    if (typeof at !== "number") return;
    const sample = at - Date.now();
    // The freshest event gives the tightest bound; older samples may be stale if the
    // local clock was changed, so a later sample that disagrees a lot wins.
    if (!this.offsetKnown || sample > this.offset || this.offset - sample > 5000) {
      this.offset = sample;
      this.offsetKnown = true;
    }
  }

  /** Replace everything with a snapshot (first join, or `reset: true`). */
  loadSnapshot(snap) {
    const names = this.names;
    this.clear();
    this.names = names;
    this.loaded = true;
    this.id = snap.id;
    this.kind = snap.kind || "circle";
    this.adoptStructure(snap);
    for (const ev of snap.recent || []) this.applyChat(ev);
  }

  /**
   * Take the parts of a snapshot that describe "now" (people, queue, floor, round,
   * settings, staff lists) after `missed` was applied, so both agree by construction.
   */
  adoptStructure(snap) {
    this.title = snap.title || snap.id;
    this.parent = snap.parent || null; // a private 1:1 room or a small group: the room it came from
    this.settings = { ...(snap.settings || {}) };
    this.seq = snap.seq;
    this.participants = new Map();
    for (const p of snap.participants || []) this.putParticipant(p);
    this.queue = [...(snap.queue || [])];
    const warned = this.floor && snap.floor && this.floor.participant_id === snap.floor.participant_id
      ? this.floor.warned : false;
    const expired = this.floor && snap.floor && this.floor.participant_id === snap.floor.participant_id
      ? this.floor.expired : false;
    this.floor = snap.floor ? { ...snap.floor, warned, expired } : null;
    this.round = snap.round ? { order: [...snap.round.order], index: snap.round.index } : null;
    if (snap.lobby) {
      this.lobby = new Map(snap.lobby.map((p) => [p.id, p]));
      for (const p of snap.lobby) this.names.set(p.id, p.name);
    }
    if (snap.held) this.held = new Map(snap.held.map((h) => [h.id, h]));
    this.arrivals = new Map(Object.entries(snap.arrivals || {}));
    this.newcomers = snap.newcomers || 0;
    this.groups = snap.groups || null;
    this.endsAt = snap.ends_at || null;
    this.format = snap.format ? { ...snap.format } : null;
    this.formatStale = false;
  }

  /** The part of the meeting now, or null (before it starts, in free time, or no format). */
  currentPart() {
    const f = this.format;
    return f && f.index !== null && f.index !== undefined ? f.segments[f.index] || null : null;
  }

  /** Move the meeting to `changes` ({index, started_at, ends_at, reader_id, free_until}). */
  moveFormat(changes) {
    const f = this.format;
    if (!f) return;
    Object.assign(f, changes);
    f.running = f.index !== null || f.free_until !== null;
    if (f.free_until !== null) f.next_index = null;
    else if (f.index === null) f.next_index = 0;
    else f.next_index = f.index + 1 < f.segments.length ? f.index + 1 : null;
  }

  putParticipant(p) {
    this.participants.set(p.id, { ...p });
    this.names.set(p.id, p.name);
  }

  nameOf(id) {
    return this.names.get(id) || null;
  }

  holder() {
    return this.floor ? this.floor.participant_id : null;
  }

  /**
   * Apply one room event. Returns "old" (already seen), "gap" (an event is missing:
   * the caller should rejoin with `since`), or "applied".
   */
  apply(ev) {
    if (ev.seq <= this.seq) return "old";
    if (ev.seq !== this.seq + 1) return "gap";
    this.seq = ev.seq;
    const d = ev.data || {};
    switch (ev.type) {
      case "participant.joined":
      case "participant.updated":
        this.putParticipant(d.participant);
        this.lobby.delete(d.participant.id);
        break;
      case "participant.left":
        this.participants.delete(d.participant_id);
        this.queue = this.queue.filter((id) => id !== d.participant_id);
        break;
      case "hand.raised":
      case "hand.lowered":
      case "queue.moved":
        this.queue = [...d.queue];
        break;
      case "floor.granted":
        this.floor = { participant_id: d.participant_id, started_at: d.started_at, deadline: d.deadline,
          warned: false, expired: false };
        this.queue = this.queue.filter((id) => id !== d.participant_id);
        if (this.round) {
          const i = this.round.order.indexOf(d.participant_id);
          if (i >= 0) this.round.index = i;
        }
        break;
      case "floor.extended":
        if (this.floor && this.floor.participant_id === d.participant_id) {
          this.floor.deadline = d.deadline;
          this.floor.warned = false;
          this.floor.expired = false;
        }
        break;
      case "floor.warning":
        if (this.floor && this.floor.participant_id === d.participant_id) this.floor.warned = true;
        break;
      case "floor.expired":
        if (this.floor && this.floor.participant_id === d.participant_id) {
          this.floor.warned = true;
          this.floor.expired = true;
        }
        break;
      case "floor.released":
        if (this.floor && this.floor.participant_id === d.participant_id) this.floor = null;
        break;
      case "round.started":
        this.round = { order: [...d.order], index: -1 };
        break;
      case "round.updated":
        this.round = { order: [...d.order], index: d.index };
        break;
      case "round.ended":
        this.round = null;
        break;
      case "chat.message":
        this.applyChat(ev);
        this.held.delete(d.id);
        break;
      case "chat.deleted":
        for (const entry of this.log) {
          if (entry.seq === d.seq) {
            entry.deleted = true;
            entry.text = "";
          }
        }
        break;
      case "reaction":
        this.push({ key: "s" + ev.seq, seq: ev.seq, kind: "reaction", at: ev.at, from: d.participant_id,
          reaction: d.kind });
        break;
      case "milestone":
        this.push({ key: "s" + ev.seq, seq: ev.seq, kind: "milestone", at: ev.at, from: d.participant_id,
          days: d.days, text: d.note || "" });
        break;
      case "oncall.answered":
        this.push({ key: "s" + ev.seq, seq: ev.seq, kind: "answered", at: ev.at, from: d.responder_id,
          about: d.participant_id });
        break;
      case "settings.changed":
        this.settings = { ...d.settings };
        this.title = d.settings.title || this.id;
        break;
      case "groups.started":
        this.groups = { ends_at: d.ends_at, groups: d.groups };
        break;
      case "groups.ended":
        this.groups = null;
        break;
      case "groups.ending":
        this.groupWarned = true;
        break;
      case "room.ended":
        this.ended = true;
        break;
      case "format.changed":
        // The texts are not in events: the client reads the format again.
        if (d.format_id === null) this.format = null;
        else this.formatStale = true;
        break;
      case "format.started":
      case "format.segment":
        this.moveFormat({ index: d.index, started_at: d.started_at, ends_at: d.ends_at, reader_id: d.reader_id ?? null,
          free_until: null });
        if (ev.type === "format.started") this.newcomers = d.newcomers || 0;
        this.push({ key: "s" + ev.seq, seq: ev.seq, kind: "format", at: ev.at, index: d.index });
        break;
      case "format.free":
        this.moveFormat({ index: null, started_at: ev.at, ends_at: d.ends_at, reader_id: null, free_until: d.ends_at });
        this.push({ key: "s" + ev.seq, seq: ev.seq, kind: "format-free", at: ev.at });
        break;
      case "format.ended":
        this.moveFormat({ index: null, started_at: null, ends_at: null, reader_id: null, free_until: null });
        this.push({ key: "s" + ev.seq, seq: ev.seq, kind: "format-ended", at: ev.at });
        break;
      case "format.milestones":
        this.push({ key: "s" + ev.seq, seq: ev.seq, kind: "format-milestones", at: ev.at });
        break;
      default:
        break; // an event this client does not know yet: the seq still counts
    }
    return "applied";
  }

  applyChat(ev) {
    const d = ev.data || {};
    this.push({ key: "s" + ev.seq, seq: ev.seq, kind: "chat", at: ev.at, from: d.from, id: d.id,
      text: d.deleted ? "" : d.text, redacted: !!d.redacted, deleted: !!d.deleted, reply_to: d.reply_to ?? null });
  }

  push(entry) {
    this.log.push(entry);
    if (this.log.length > LOG_KEEP) this.log.splice(0, this.log.length - LOG_KEEP);
  }

  /** 1-based place of `id` in the hand queue, or 0. */
  placeOf(id) {
    return this.queue.indexOf(id) + 1;
  }
}

// Messages on their way: a typed message is never lost.
//
// Each message gets a `client_id` when it is typed and keeps it through every retry,
// so the server posts it once however many times it is sent (contract §4.1). The
// outbox lives in memory only: message text never touches sessionStorage, localStorage
// or any other storage (privacy: a shared phone must not keep what was said).

// Try again after a refusal that time will cure (rate limit, a busy or restarting server).
const RETRY_MS = 3000;
// Codes that mean "not now": the message waits and goes later, unchanged.
const LATER = new Set(["offline", "timeout", "not_joined", "rate_limited", "internal", "unavailable", "conflict"]);

export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export class Outbox {
  /**
   * send(item) -> Promise<ack>; canSend() -> bool (joined and online);
   * onChange() after any change of items.
   */
  constructor({ send, canSend, onChange }) {
    this.send = send;
    this.canSend = canSend;
    this.onChange = onChange;
    this.items = [];
    this.busy = false;
    this.timer = null;
  }

  add(text) {
    this.items.push({ client_id: newClientId(), text, status: "queued", error: null });
    this.onChange();
    this.flush();
  }

  /** Send what waits, one at a time and in order, while we can. */
  async flush() {
    if (this.busy) return;
    this.busy = true;
    try {
      for (;;) {
        const item = this.items.find((i) => i.status === "queued");
        if (!item || !this.canSend()) return;
        item.status = "sending";
        this.onChange();
        const ack = await this.send(item);
        if (!this.items.includes(item)) continue; // discarded meanwhile
        if (ack.ok) {
          this.items.splice(this.items.indexOf(item), 1);
          this.onChange();
          continue;
        }
        const err = ack.error || { code: "internal", message: "" };
        if (err.code === "held") {
          item.status = "held";
          item.error = null;
        } else if (err.code === "blocked" && /rate.?limit|slow.?mode/i.test(err.message || "")) {
          // The moderation rate limit (or slow mode) answers `blocked`, and the server
          // then refuses this client_id for good; the message itself did nothing
          // wrong, so it waits a moment and goes again under a new id.
          item.client_id = newClientId();
          item.status = "queued";
          item.error = /slow/i.test(err.message || "") ? "slow" : "rate_limited";
        } else if (LATER.has(err.code)) {
          item.status = "queued";
          item.error = err.code;
        } else {
          item.status = "failed";
          item.error = err.code;
        }
        this.onChange();
        if (item.status === "queued") {
          if (err.code !== "offline" && err.code !== "not_joined") this.later();
          return; // keep the order: nothing overtakes a message that waits
        }
      }
    } finally {
      this.busy = false;
    }
  }

  later() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), RETRY_MS);
  }

  /** A failed message, sent again as a new message. */
  retry(clientId) {
    const item = this.items.find((i) => i.client_id === clientId);
    if (!item) return;
    item.client_id = newClientId();
    item.status = "queued";
    item.error = null;
    this.onChange();
    this.flush();
  }

  discard(clientId) {
    this.items = this.items.filter((i) => i.client_id !== clientId);
    this.onChange();
  }

  /** A facilitator decided one of our held messages (oldest first). */
  reviewed(approved) {
    const i = this.items.findIndex((x) => x.status === "held");
    if (i >= 0) this.items.splice(i, 1);
    this.onChange();
    return approved;
  }

  /** Back online: anything mid-flight is sent again (same client_id, so never twice). */
  resume() {
    for (const item of this.items) if (item.status === "sending") item.status = "queued";
    this.flush();
  }
}

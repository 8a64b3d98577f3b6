// The Socket.IO connection (contract §4): connect with the token, ask and await acks.
//
// Reconnection is Socket.IO's own (exponential backoff up to a few seconds). The one
// case it leaves to us is a server that said goodbye on purpose (a restart or a
// deploy): we come back too, unless we were removed or the circle ended.

import { io } from "./vendor/socket.io.esm.min.js";

// An ack later than this is treated as lost; the caller decides whether to retry.
const ACK_TIMEOUT_MS = 10000;
// After the server closed the connection on purpose (a restart), wait this long before
// knocking again; Socket.IO's backoff takes over from there.
const COME_BACK_MS = 1000;

export class Connection {
  /** `token()` gives the credential for each (re)connection: the link, or once the link
   * has run out, the session a join gave back. */
  constructor(token, handlers) {
    this.handlers = handlers;
    this.stopped = false;
    this.socket = io({
      auth: (cb) => cb({ token: token() }),
      transports: ["websocket"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
      timeout: 8000,
    });
    const s = this.socket;
    s.on("connect", () => handlers.connect());
    s.on("disconnect", (reason) => {
      handlers.disconnect(reason);
      if (reason === "io server disconnect") this.comeBack();
    });
    s.on("connect_error", (err) => {
      // A refusal by the server carries {code, message}; a network failure has no data
      // and Socket.IO keeps trying by itself.
      const data = err && err.data && typeof err.data === "object" ? err.data : null;
      handlers.connectError(data && data.code ? data : null);
    });
    s.on("room.event", (ev) => handlers.roomEvent(ev));
    s.onAny((event, data) => {
      if (event !== "room.event") handlers.notice(event, data || {});
    });
  }

  /** Knock again after a server's goodbye or its "restarting" refusal: Socket.IO leaves
   * both to us. */
  comeBack() {
    const s = this.socket;
    setTimeout(() => { if (!this.stopped && !s.connected) s.connect(); }, COME_BACK_MS);
  }

  get connected() {
    return this.socket.connected;
  }

  /** Send one event and resolve with its ack; never rejects. */
  call(event, payload, timeoutMs = ACK_TIMEOUT_MS) {
    if (!this.socket.connected) {
      return Promise.resolve({ ok: false, error: { code: "offline", message: "not connected" } });
    }
    return new Promise((resolve) => {
      this.socket.timeout(timeoutMs).emit(event, payload, (err, ack) => {
        if (err) resolve({ ok: false, error: { code: "timeout", message: "no answer" } });
        else if (ack && typeof ack === "object") resolve(ack);
        else resolve({ ok: false, error: { code: "internal", message: "bad answer" } });
      });
    });
  }

  stop() {
    this.stopped = true;
    this.socket.disconnect();
  }

  start() {
    this.stopped = false;
    if (!this.socket.connected) this.socket.connect();
  }
}

// Audio (contract §7): one RTCPeerConnection to the server, one audio transceiver,
// send and receive. The offer goes out once ICE gathering is complete (no trickle).
//
// The connection starts without a microphone track, so joining a circle never asks for
// the microphone; the person turns it on when they want to speak, and the track is
// swapped in without renegotiation. Whether the track is live follows the floor (the
// server enforces who is heard; this is a courtesy so nobody sends sound for nothing).

// ICE gathering on a phone can be slow when an interface is dead; send what we have.
const GATHER_MAX_MS = 3000;
// A connection that failed (the server's media worker went away, the network changed)
// is opened again after this long, doubling, this many times.
const RETRY_MS = 1000;
const RETRIES = 5;

export class Audio {
  /** call(event, payload) -> Promise<ack>; onChange() when status changes. */
  constructor({ call, onChange, element }) {
    this.call = call;
    this.onChange = onChange;
    this.element = element;
    this.status = "off"; // off | connecting | on | unavailable | failed
    this.mic = "none"; // none | asking | ready | denied
    this.selfMuted = false;
    this.allowed = false; // may be heard now (floor, facilitator, or open audio)
    this.pc = null;
    this.transceiver = null;
    this.track = null;
    this.room = null;
    this.needsTap = false;
    this.retries = 0;
    this.retryTimer = null;
    this.wasOn = false; // audio worked here before: "unavailable" now is for a moment
  }

  set(status) {
    this.status = status;
    this.onChange();
  }

  /** Open (or reopen, after a reconnect) the connection for `room`. */
  async start(room) {
    if (!("RTCPeerConnection" in window)) {
      this.set("unavailable");
      return;
    }
    this.stopPeer();
    this.room = room;
    this.set("connecting");
    const pc = new RTCPeerConnection();
    this.pc = pc;
    this.transceiver = pc.addTransceiver("audio", { direction: "sendrecv" });
    if (this.track) await this.transceiver.sender.replaceTrack(this.track);
    pc.ontrack = (e) => this.play(e.streams[0] || new MediaStream([e.track]));
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      if (pc.connectionState === "failed") {
        this.set("failed");
        this.retryLater();
      } else if (pc.connectionState === "connected") {
        this.retries = 0;
        this.set("on");
      }
    };
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      if (pc !== this.pc) return;
      const ack = await this.call("rtc.offer", { room, sdp: pc.localDescription.sdp, type: "offer" });
      if (pc !== this.pc) return;
      if (!ack.ok) {
        this.stopPeer();
        const code = ack.error && ack.error.code;
        const gone = code === "unavailable" && !this.wasOn; // a text-only server
        this.set(gone ? "unavailable" : "failed");
        if (!gone && code !== "not_joined") this.retryLater();
        return;
      }
      await pc.setRemoteDescription({ type: "answer", sdp: ack.sdp });
      this.wasOn = true;
      this.set("on");
      this.apply();
    } catch {
      if (pc === this.pc) {
        this.stopPeer();
        this.set("failed");
        this.retryLater();
      }
    }
  }

  /** The server asked for a new connection (`rtc.restart`: its media moved). */
  restart() {
    if (this.room && this.status !== "unavailable" && this.status !== "off") {
      this.retries = 0;
      this.start(this.room);
    }
  }

  retryLater() {
    if (this.retryTimer || this.retries >= RETRIES || !this.room) return;
    const wait = RETRY_MS * 2 ** this.retries;
    this.retries += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.status === "failed" && this.room) this.start(this.room);
    }, wait);
  }

  play(stream) {
    this.element.srcObject = stream;
    const p = this.element.play();
    if (p && p.catch) {
      p.then(() => { this.needsTap = false; this.onChange(); })
        .catch(() => { this.needsTap = true; this.onChange(); });
    }
  }

  /** After a tap: browsers let sound play only once the person has touched the page. */
  resumePlayback() {
    this.element.play().then(() => { this.needsTap = false; this.onChange(); }).catch(() => {});
  }

  async enableMic() {
    if (this.track) return;
    this.mic = "asking";
    this.onChange();
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      this.track = stream.getAudioTracks()[0];
      this.mic = "ready";
      if (this.transceiver) await this.transceiver.sender.replaceTrack(this.track);
    } catch {
      this.mic = "denied";
    }
    this.apply();
    this.onChange();
  }

  toggleSelfMute() {
    this.selfMuted = !this.selfMuted;
    this.apply();
    this.onChange();
  }

  /** The floor rule, from the room state: may this person be heard now? */
  setAllowed(allowed) {
    if (allowed === this.allowed) return;
    this.allowed = allowed;
    this.apply();
  }

  apply() {
    if (this.track) this.track.enabled = this.allowed && !this.selfMuted;
  }

  live() {
    return !!this.track && this.track.enabled && this.status === "on";
  }

  stopPeer() {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    if (this.pc) {
      const pc = this.pc;
      this.pc = null;
      this.transceiver = null;
      try { pc.close(); } catch { /* already closed */ }
    }
  }

  /** Leaving: close the connection and let go of the microphone. */
  close() {
    if (this.pc && this.room && this.status === "on") this.call("rtc.close", { room: this.room });
    this.stopPeer();
    if (this.track) {
      this.track.stop();
      this.track = null;
    }
    this.mic = "none";
    this.element.srcObject = null;
    this.status = "off";
    this.onChange();
  }
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      pc.removeEventListener("icegatheringstatechange", check);
      clearTimeout(timer);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const timer = setTimeout(done, GATHER_MAX_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

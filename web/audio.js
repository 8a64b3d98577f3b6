// Audio (contract §7): one RTCPeerConnection to the server, one audio transceiver,
// send and receive. The offer goes out once ICE gathering is complete (no trickle).
//
// The connection starts without a microphone track, so joining a circle never asks for
// the microphone; the person turns it on when they want to speak, and the track is
// swapped in without renegotiation. The microphone is held only while the person may be
// heard (the floor, staff, open audio) and has not paused it: otherwise the track is
// stopped, so the phone's microphone light goes out, and it is acquired again (no new
// prompt: the permission stays) when they get the floor. The server enforces who is
// heard; this is so that nothing of a person is captured when nobody can hear it.
//
// What is shown follows the real state: "on" only once the peer connection is
// connected, and live only while a track is actually being sent.

// ICE gathering on a phone can be slow when an interface is dead; send what we have.
const GATHER_MAX_MS = 3000;
// A connection that failed (the server's media worker went away, the network changed)
// is opened again after this long, doubling, this many times.
const RETRY_MS = 1000;
const RETRIES = 5;
// An answered connection that has not connected by then has failed (no candidate pair
// works): it says so and is tried again.
const CONNECT_MAX_MS = 8000;

export class Audio {
  /** call(event, payload) -> Promise<ack>; onChange() when status changes. */
  constructor({ call, onChange, element }) {
    this.call = call;
    this.onChange = onChange;
    this.element = element;
    this.status = "off"; // off | connecting | on | unavailable | failed
    this.mic = "none"; // none | asking | ready | denied (ready: permission given)
    this.acquiring = false; // getting the microphone again after it was released
    this.selfMuted = false;
    this.allowed = false; // may be heard now (floor, facilitator, or open audio)
    this.pc = null;
    this.transceiver = null;
    this.track = null;
    this.room = null;
    this.needsTap = false;
    this.iceServers = [];
    this.retries = 0;
    this.retryTimer = null;
    this.connectTimer = null;
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
    // TURN for networks that block direct audio (the join ack's ice_servers, if any).
    const pc = new RTCPeerConnection({ iceServers: this.iceServers || [] });
    this.pc = pc;
    this.transceiver = pc.addTransceiver("audio", { direction: "sendrecv" });
    if (this.track) await this.transceiver.sender.replaceTrack(this.track);
    pc.ontrack = (e) => this.play(e.streams[0] || new MediaStream([e.track]));
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      if (pc.connectionState === "failed") {
        this.fail();
      } else if (pc.connectionState === "connected") {
        clearTimeout(this.connectTimer);
        this.connectTimer = null;
        this.retries = 0;
        this.wasOn = true;
        this.set("on");
      } else if (pc.connectionState === "disconnected" && this.status === "on") {
        this.set("connecting"); // it may come back by itself; if not, it has failed
        this.expectConnected(pc);
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
      // Answered is not connected: "on" comes with the connection state.
      this.expectConnected(pc);
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

  /** `pc` must be connected within CONNECT_MAX_MS, or it has failed. */
  expectConnected(pc) {
    clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => {
      if (pc === this.pc && pc.connectionState !== "connected") this.fail();
    }, CONNECT_MAX_MS);
  }

  /** This connection failed: close it (the server forgets it), say so, try again. */
  fail() {
    if (this.pc && this.room) this.call("rtc.close", { room: this.room });
    this.stopPeer();
    this.set("failed");
    this.retryLater();
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
    if (this.mic === "ready" || this.mic === "asking") return;
    this.mic = "asking";
    this.onChange();
    try {
      await this.acquire();
      this.mic = "ready";
    } catch {
      this.mic = "denied";
    }
    this.apply();
    this.onChange();
  }

  async acquire() {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    const track = stream.getAudioTracks()[0];
    this.track = track;
    this.acquiredAt = performance.now();
    // The device went away (unplugged, taken by a call): say so at once, not "live".
    track.addEventListener("ended", () => {
      if (this.track !== track) return;
      this.track = null;
      this.onChange();
    });
    if (this.transceiver) await this.transceiver.sender.replaceTrack(this.track);
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

  /** Hold the microphone only while it can be heard; release it otherwise. */
  apply() {
    const wanted = this.mic === "ready" && this.allowed && !this.selfMuted;
    if (!wanted && this.track) {
      const track = this.track;
      this.track = null;
      if (this.transceiver) this.transceiver.sender.replaceTrack(null).catch(() => {});
      track.stop(); // the device is let go: the phone's microphone light goes out
    } else if (wanted && !this.track && !this.acquiring) {
      this.acquiring = true;
      this.onChange();
      this.acquire()
        .catch(() => { this.mic = "denied"; })
        .finally(() => {
          this.acquiring = false;
          if (!(this.mic === "ready" && this.allowed && !this.selfMuted)) this.apply(); // changed meanwhile
          this.onChange();
        });
    }
  }

  /** Sound of this person reaches the server now: a live track on a connected link. */
  live() {
    return !!this.track && this.track.readyState === "live" && this.track.enabled && this.status === "on"
      && !!this.transceiver && this.transceiver.sender.track === this.track;
  }

  stopPeer() {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    clearTimeout(this.connectTimer);
    this.connectTimer = null;
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

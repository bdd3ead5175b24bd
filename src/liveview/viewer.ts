import type { WebSocket } from "ws";
import { parseInput, type InputMessage, type ServerMessage } from "./protocol.js";
import type { StreamSettings } from "./settings.js";
import type { LiveViewMode } from "./protocol.js";

/** How often to look again at a viewer whose socket has not drained. */
const DRAIN_POLL_MS = 50;

/** A viewer that has not answered a ping for this long is gone (closed laptop, lost network). */
const HEARTBEAT_MS = 30_000;

/** WebSocket close code telling the page the session is over (do not reconnect). */
export const CLOSE_SESSION_ENDED = 4000;

/**
 * One connected live-view page. Frames are never queued: a viewer holds at most one pending
 * frame, replaced by each newer one, and sends it when both its own frame interval has passed
 * and its socket has written out the previous frame. A slow viewer therefore sees fewer frames,
 * always ending on the latest, and never delays the session or the other viewers.
 */
export class Viewer {
  private pending: Buffer | undefined;
  private nextSendAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly interval: number;
  private answered = true;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly ws: WebSocket,
    readonly mode: LiveViewMode,
    readonly settings: StreamSettings,
    onInput: (msg: InputMessage) => void,
  ) {
    this.interval = 1000 / settings.fps;
    ws.on("message", (data, isBinary) => {
      // The server decides what a viewer may do: on a read-only token every message is dropped
      // unread, whatever the page sending it was changed to do.
      if (this.mode !== "control" || isBinary) return;
      const msg = parseInput(data.toString());
      if (msg) onInput(msg);
    });
    // Without this a vanished viewer would keep the session's screencast running indefinitely.
    this.heartbeat = setInterval(() => {
      if (!this.answered) return ws.terminate();
      this.answered = false;
      ws.ping();
    }, HEARTBEAT_MS).unref();
    ws.on("pong", () => (this.answered = true));
    ws.on("close", () => {
      clearTimeout(this.timer);
      clearInterval(this.heartbeat);
    });
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Offers the newest frame; it replaces any frame this viewer has not been sent yet. */
  offerFrame(frame: Buffer): void {
    this.pending = frame;
    this.flush();
  }

  sendMessage(msg: ServerMessage): void {
    if (this.open) this.ws.send(JSON.stringify(msg));
  }

  close(code: number, reason: string): void {
    clearTimeout(this.timer);
    this.pending = undefined;
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.close(code, reason);
    }
  }

  /** Ends the connection at once, for when the server shuts down. */
  terminate(): void {
    clearTimeout(this.timer);
    this.ws.terminate();
  }

  private flush(): void {
    if (!this.pending || !this.open || this.timer) return;
    const now = Date.now();
    let wait = this.nextSendAt - now;
    // Anything still unwritten means the link is slower than the stream: wait for it to drain.
    if (wait <= 0 && this.ws.bufferedAmount > 0) wait = DRAIN_POLL_MS;
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, wait);
      return;
    }
    const frame = this.pending;
    this.pending = undefined;
    this.nextSendAt = now + this.interval;
    this.ws.send(frame, { binary: true });
  }
}

import WebSocket from "ws";

/** How much one browser's tenant CDP clients may leave unread, and for how long. */
export interface BacklogLimits {
  /** Bytes waiting for all of them together (sent and not yet read, or still arriving). */
  maxBytes: number;
  /** How long a client may hold unread bytes without reading any before it is cut off. */
  stallMs: number;
}

export const DEFAULT_BACKLOG_LIMITS: BacklogLimits = {
  maxBytes: 64 * 1024 * 1024,
  stallMs: 30_000,
};

/** The close code of a client cut off for what it left unread (policy violation). */
export const CLOSE_UNREAD = 1008;

interface Reader {
  /** Bytes its sends have put out so far (their callbacks ran): progress. */
  flushed: number;
  /** What `flushed` and its unread bytes were at the last check. */
  seen: { flushed: number; unread: number };
  /** Since when it has held unread bytes without reading any (ms since the epoch). */
  stuckSince: number | undefined;
}

/**
 * The bytes one browser's tenant CDP clients have not read, counted the moment they are queued:
 * what the WebSocket holds for each (`bufferedAmount`) plus a message about to go out or still
 * arriving from the browser. Together they stay under one limit, so a session's clients can hold
 * at most that much of the server's memory however many there are; a message that does not fit
 * cuts off the clients holding unread bytes, most first, and a message that cannot fit even
 * alone cuts off its recipient. A client that holds unread bytes and reads none of them for
 * `stallMs` is cut off too.
 */
export class CdpBacklog {
  private readonly readers = new Map<WebSocket, Reader>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly limits: BacklogLimits) {}

  add(ws: WebSocket): void {
    this.readers.set(ws, { flushed: 0, seen: { flushed: 0, unread: 0 }, stuckSince: undefined });
    this.timer ??= setInterval(() => this.checkStalls(), checkEveryMs(this.limits.stallMs));
    this.timer.unref();
  }

  remove(ws: WebSocket): void {
    this.readers.delete(ws);
    if (this.readers.size === 0) this.stop();
  }

  /**
   * Makes room for `bytes` more for `ws`, cutting off other clients that hold unread bytes
   * (most first) while they do not fit. False, and nobody else cut off, when they cannot fit
   * even if `ws` were the only client: the caller drops them and cuts `ws` off.
   */
  makeRoom(ws: WebSocket, bytes: number): boolean {
    if (!this.readers.has(ws)) return true;
    const { maxBytes } = this.limits;
    if (unread(ws) + bytes > maxBytes) return false;
    let total = bytes;
    for (const other of this.readers.keys()) total += unread(other);
    if (total <= maxBytes) return true;
    const holding = [...this.readers.keys()]
      .filter((other) => other !== ws && unread(other) > 0)
      .sort((a, b) => unread(b) - unread(a));
    for (const other of holding) {
      if (total <= maxBytes) break;
      total -= unread(other);
      this.cutOff(other, `another client of this session needed room: ${this.limitText()}`);
    }
    return true;
  }

  /** Sends `text` to `ws`, counting its progress; call after makeRoom agreed. */
  send(ws: WebSocket, text: string, bytes: number): void {
    const reader = this.readers.get(ws);
    if (!reader) return ws.send(text);
    ws.send(text, () => (reader.flushed += bytes));
  }

  /** A message for `ws` that does not fit even alone: `ws` is cut off, saying why. */
  tooLarge(ws: WebSocket, bytes: number): void {
    const mb = Math.ceil(bytes / (1024 * 1024));
    this.cutOff(ws, `a reply of ${mb}+ MB is over ${this.limitText()}`);
  }

  /**
   * Ends a client's connection. One with bytes still queued is not reading: a close frame
   * would wait behind them, holding them, so it is dropped at once. Otherwise it gets the
   * close code and reason.
   */
  cutOff(ws: WebSocket, reason: string): void {
    this.remove(ws);
    if (ws.bufferedAmount > QUEUED_CLOSE_BYTES) return ws.terminate();
    // Within the 123 bytes a close reason may have.
    ws.close(CLOSE_UNREAD, Buffer.from(reason).subarray(0, 123).toString());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private checkStalls(): void {
    const now = Date.now();
    for (const [ws, reader] of this.readers) {
      const left = unread(ws);
      const moved = reader.flushed > reader.seen.flushed || left < reader.seen.unread;
      reader.seen = { flushed: reader.flushed, unread: left };
      if (left === 0 || moved) reader.stuckSince = undefined;
      else if (reader.stuckSince === undefined) reader.stuckSince = now;
      else if (now - reader.stuckSince >= this.limits.stallMs) {
        this.cutOff(
          ws,
          `read nothing for ${this.limits.stallMs / 1000} s with ${left} bytes waiting`,
        );
      }
    }
  }

  private limitText(): string {
    return `this session's unread limit for CDP clients (${this.limits.maxBytes / (1024 * 1024)} MB)`;
  }
}

/** A close frame fits behind this much; more queued means the client is not reading. */
const QUEUED_CLOSE_BYTES = 64 * 1024;

/** What the WebSocket holds for the client and has not handed to the kernel. */
function unread(ws: WebSocket): number {
  return ws.readyState === WebSocket.OPEN ? ws.bufferedAmount : 0;
}

/** Checks often enough to act within a quarter of the deadline, and at most 4 times a second. */
function checkEveryMs(stallMs: number): number {
  return Math.max(250, Math.min(5_000, Math.floor(stallMs / 4)));
}

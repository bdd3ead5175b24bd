import type { CdpMux } from "./mux.js";

/** A CDP command as sent to one target. */
export interface CdpCommand {
  method: string;
  params: Record<string, unknown>;
}

/** Chromium's answer to a command that failed, with the command named. */
export class CdpError extends Error {
  constructor(
    readonly method: string,
    message: string,
  ) {
    super(`${method}: ${message}`);
  }
}

/**
 * The server's own CDP connection to a browser, as one more client of its mux: a browser session
 * of its own, promises for replies, every call bounded in time. Events are handed over as the
 * browser's text, so a listener can skip the ones it does not want without parsing them.
 */
export class CdpClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly conn: { send(text: string): void; close(): void };
  private ended = false;

  constructor(mux: CdpMux, onEvent: (text: string) => void) {
    this.conn = mux.connect(
      (text) => {
        const head = ID_HEAD.exec(text.slice(0, 32));
        if (!head) return onEvent(text);
        const p = this.pending.get(Number(head[1]));
        if (!p) return;
        this.settle(Number(head[1]));
        const msg = JSON.parse(text) as {
          result?: Record<string, unknown>;
          error?: { message: string };
        };
        if (msg.error) p.reject(new CdpError(p.method, msg.error.message));
        else p.resolve(msg.result ?? {});
      },
      () => this.end(),
    );
  }

  /** Sends a command to the browser target, or to one of this client's sessions. */
  send(
    method: string,
    params: Record<string, unknown>,
    opts: { sessionId?: string; timeoutMs: number },
  ): Promise<Record<string, unknown>> {
    if (this.ended) return Promise.reject(new CdpError(method, "the browser connection is closed"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id);
        reject(new CdpError(method, `no answer within ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      this.conn.send(JSON.stringify({ id, method, params, sessionId: opts.sessionId }));
    });
  }

  /** Detaches from the browser; the sessions this client attached go with it. */
  close(): void {
    this.conn.close();
    this.end();
  }

  private settle(id: number): void {
    clearTimeout(this.pending.get(id)?.timer);
    this.pending.delete(id);
  }

  private end(): void {
    this.ended = true;
    for (const [id, p] of this.pending) {
      this.settle(id);
      p.reject(new CdpError(p.method, "the browser connection is closed"));
    }
  }
}

interface Pending {
  method: string;
  resolve(result: Record<string, unknown>): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

// Chromium writes "id" first in a reply; an event starts with "method".
const ID_HEAD = /^\{"id":(\d+),/;

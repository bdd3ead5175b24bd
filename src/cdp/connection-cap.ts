import type { OutgoingHttpHeaders } from "node:http";
import type WebSocket from "ws";

/** The HTTP answer to an upgrade refused for being one too many (made by the HTTP layer). */
export interface ConnectionRefusal {
  status: number;
  headers: OutgoingHttpHeaders;
  body: string;
}

/**
 * Counts WebSocket connections over every listener it is given (a sandbox's CDP socket and its
 * port share one) and refuses an upgrade once `max` are open, before anything reaches a browser.
 */
export class ConnectionCap {
  private open = 0;

  constructor(
    readonly max: number,
    private readonly refusal: ConnectionRefusal,
  ) {}

  get count(): number {
    return this.open;
  }

  /**
   * A WebSocketServer's `verifyClient`. It answers at once, so the upgrade completes (and
   * `take` counts it) in the same turn: no two upgrades can both see the last place free.
   */
  readonly verify = (
    _info: unknown,
    done: (ok: boolean, status?: number, message?: string, headers?: OutgoingHttpHeaders) => void,
  ): void => {
    if (this.open < this.max) return done(true);
    const { status, body, headers } = this.refusal;
    done(false, status, body, headers);
  };

  /** Counts an accepted connection until it closes. */
  take(ws: WebSocket): void {
    this.open++;
    ws.once("close", () => this.open--);
  }
}

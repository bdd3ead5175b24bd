import type { CdpMux } from "../cdp/mux.js";

/**
 * Stops JavaScript running in a browser's pages on demand. A CDP session attached once a page
 * is stuck in a loop never gets its commands through (the renderer's main thread never takes the
 * attach), so this one attaches to every page and frame as it is created and keeps the session.
 */
export class PageScripts {
  private readonly sessions = new Set<string>();
  private readonly conn: { send(text: string): void; close(): void };
  private nextId = 1;

  constructor(mux: CdpMux) {
    this.conn = mux.connect((text) => this.onMessage(text));
    this.call("Target.setAutoAttach", {
      autoAttach: true,
      waitForDebuggerOnStart: false,
      flatten: true,
      filter: [{ type: "page" }, { type: "iframe" }],
    });
  }

  /** Terminates the script running in each page now (its next one runs normally). */
  stopAll(): void {
    for (const sessionId of this.sessions) this.call("Runtime.terminateExecution", {}, sessionId);
  }

  close(): void {
    this.conn.close();
  }

  private call(method: string, params: object, sessionId?: string): void {
    this.conn.send(JSON.stringify({ id: this.nextId++, method, params, sessionId }));
  }

  private onMessage(text: string): void {
    if (!text.startsWith('{"method":"Target.')) return;
    const msg = JSON.parse(text) as { method: string; params: { sessionId?: string } };
    const sessionId = msg.params.sessionId;
    if (!sessionId) return;
    if (msg.method === "Target.attachedToTarget") this.sessions.add(sessionId);
    else if (msg.method === "Target.detachedFromTarget") this.sessions.delete(sessionId);
  }
}

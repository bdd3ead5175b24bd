import { PATHS } from "../urls/public-urls.js";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";
import type { LiveSession } from "../sessions/live-session.js";

/** The path prefix of CDP URLs: `/cdp/<token>`. */
export const CDP_PATH = PATHS.cdp;

export interface CdpProxyDeps {
  findByToken(token: string): LiveSession | undefined;
  reject(socket: Duplex, status: number, message: string): void;
  /** Largest message a client may send; a bigger one closes its connection with 1009. */
  maxMessageBytes: number;
}

/**
 * Accepts a client's CDP WebSocket for its session's browser. The token is checked before any
 * byte reaches the browser; the client then becomes one more connection on the browser's CDP
 * pipe (see browser/cdp-mux.ts), and every such connection closes when the session ends.
 */
export class CdpProxy {
  private readonly wss: WebSocketServer;
  private readonly open = new Map<string, Set<WebSocket>>();

  constructor(private readonly deps: CdpProxyDeps) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: deps.maxMessageBytes,
      perMessageDeflate: false,
    });
  }

  /** Client connections open now, over every session. */
  get connectionCount(): number {
    let n = 0;
    for (const set of this.open.values()) n += set.size;
    return n;
  }

  /** Upgrade handler for `/cdp/<token>`. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void => {
    const token = safeDecode(url.pathname.slice(CDP_PATH.length));
    const session = token ? this.deps.findByToken(token) : undefined;
    if (!session) return this.deps.reject(socket, 404, "Unknown or stopped browser session");
    this.wss.handleUpgrade(req, socket, head, (client) => this.accept(session, client));
  };

  private accept(session: LiveSession, client: WebSocket): void {
    if (!session.alive) return void client.close(1001, "session ended");
    let set = this.open.get(session.id);
    if (!set) {
      set = new Set();
      this.open.set(session.id, set);
      session.whenEnded(() => this.closeAll(session.id));
    }
    set.add(client);
    client.once("close", () => set.delete(client));
    session.attachCdpClient(client);
  }

  private closeAll(sessionId: string): void {
    const set = this.open.get(sessionId);
    this.open.delete(sessionId);
    for (const ws of set ?? []) ws.close(1001, "session ended");
  }

  close(): void {
    for (const id of [...this.open.keys()]) this.closeAll(id);
    this.wss.close();
  }
}

/** The token from the path, or undefined when its percent-encoding is malformed. */
function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

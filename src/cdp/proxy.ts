import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";
import type { LiveSession } from "../sessions/live-session.js";

/** The path prefix of CDP URLs: `/cdp/<token>`. */
export const CDP_PATH = "/cdp/";

export interface CdpProxyDeps {
  findByToken(token: string): LiveSession | undefined;
  reject(socket: Duplex, status: number, message: string): void;
}

const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/**
 * Relays a client's CDP WebSocket to its session's browser. The token is checked before any
 * byte reaches the browser, and every relayed connection closes when the session ends.
 */
export class CdpProxy {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  private readonly open = new Map<string, Set<WebSocket>>();

  constructor(private readonly deps: CdpProxyDeps) {}

  /** Upgrade handler for `/cdp/<token>`. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void => {
    const token = decodeURIComponent(url.pathname.slice(CDP_PATH.length));
    const session = token ? this.deps.findByToken(token) : undefined;
    if (!session) return this.deps.reject(socket, 404, "Unknown or stopped browser session");
    this.wss.handleUpgrade(req, socket, head, (client) => this.relay(session, client));
  };

  private relay(session: LiveSession, client: WebSocket): void {
    const upstream = new WebSocket(session.browserWsEndpoint, {
      maxPayload: MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
    });
    const pending: { data: WebSocket.RawData; binary: boolean }[] = [];
    let set = this.open.get(session.id);
    if (!set) {
      set = new Set();
      this.open.set(session.id, set);
      session.whenDestroyed(() => this.closeAll(session.id));
    }
    set.add(client);

    const closeBoth = () => {
      set.delete(client);
      if (client.readyState <= WebSocket.OPEN) client.close();
      if (upstream.readyState <= WebSocket.OPEN) upstream.terminate();
    };
    client.on("message", (data, binary) => {
      session.touch();
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary });
      else pending.push({ data, binary });
    });
    upstream.on("open", () => {
      for (const m of pending.splice(0)) upstream.send(m.data, { binary: m.binary });
    });
    upstream.on("message", (data, binary) => {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary });
    });
    client.on("close", closeBoth);
    client.on("error", closeBoth);
    upstream.on("close", closeBoth);
    upstream.on("error", closeBoth);
    if (!session.alive) closeBoth();
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

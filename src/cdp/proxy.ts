import { PATHS } from "../urls/public-urls.js";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";
import { AppError } from "../errors/app-error.js";
import type { LiveSession } from "../sessions/live-session.js";

/** The path prefix of CDP URLs: `/cdp/<token>`. */
export const CDP_PATH = PATHS.cdp;

/** When a connection refused for being one too many may be tried again. */
const RETRY_AFTER_SECONDS = 5;

const TOO_MANY = {
  session: (n: number) =>
    `This browser session already has ${n} CDP connections open, the most it accepts (CDP_MAX_CONNECTIONS). Close one and retry.`,
  team: (n: number) =>
    `Your team already has ${n} CDP connections open over its browser sessions, the most it may (TEAM_MAX_CDP_CONNECTIONS). Close one and retry.`,
  sandbox: (n: number) =>
    `This session's sandbox already has ${n} CDP connections open to its browser, the most it accepts (CDP_MAX_CONNECTIONS). Close one and retry.`,
};

/** The refusal of a CDP connection one too many for a session, its team or its sandbox. */
export function tooManyCdpConnections(scope: keyof typeof TOO_MANY, limit: number): AppError {
  return new AppError(
    "TOO_MANY_CONNECTIONS",
    TOO_MANY[scope](limit),
    { limit, scope },
    { retryAfterSeconds: RETRY_AFTER_SECONDS },
  );
}

export interface CdpProxyDeps {
  findByToken(token: string): LiveSession | undefined;
  /** Answers the upgrade with the error (its status, JSON body, Retry-After) and closes it. */
  reject(socket: Duplex, err: AppError): void;
  /** Largest message a client may send; a bigger one closes its connection with 1009. */
  maxMessageBytes: number;
  /** Connections one session accepts at once. */
  maxPerSession: number;
  /** Connections one team may have open over all its sessions (Infinity: no team limit). */
  maxPerTeam: number;
}

/**
 * Accepts a client's CDP WebSocket for its session's browser. The token is checked, and the
 * session's and its team's connection limits, before any byte reaches the browser; the client
 * then becomes one more connection on the browser's CDP pipe (see browser/cdp-mux.ts, which
 * also bounds what it may leave unread), and every such connection closes when the session ends.
 */
export class CdpProxy {
  private readonly wss: WebSocketServer;
  private readonly open = new Map<string, Set<WebSocket>>();
  private readonly perTeam = new Map<string, number>();

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
    if (!session) {
      return this.deps.reject(
        socket,
        new AppError("NOT_FOUND", "Unknown or stopped browser session"),
      );
    }
    const refused = this.tooMany(session);
    if (refused) return this.deps.reject(socket, refused);
    // The upgrade completes within this call, so the place checked above is still free.
    this.wss.handleUpgrade(req, socket, head, (client) => this.accept(session, client));
  };

  /** Why one more connection to the session would be one too many, if it would. */
  private tooMany(session: LiveSession): AppError | undefined {
    const { maxPerSession, maxPerTeam } = this.deps;
    if ((this.open.get(session.id)?.size ?? 0) >= maxPerSession) {
      return tooManyCdpConnections("session", maxPerSession);
    }
    if ((this.perTeam.get(session.teamId) ?? 0) >= maxPerTeam) {
      return tooManyCdpConnections("team", maxPerTeam);
    }
    return undefined;
  }

  private accept(session: LiveSession, client: WebSocket): void {
    if (!session.alive) return void client.close(1001, "session ended");
    let set = this.open.get(session.id);
    if (!set) {
      set = new Set();
      this.open.set(session.id, set);
      session.whenEnded(() => this.closeAll(session.id));
    }
    set.add(client);
    const team = session.teamId;
    this.perTeam.set(team, (this.perTeam.get(team) ?? 0) + 1);
    client.once("close", () => {
      set.delete(client);
      const left = (this.perTeam.get(team) ?? 1) - 1;
      if (left > 0) this.perTeam.set(team, left);
      else this.perTeam.delete(team);
    });
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

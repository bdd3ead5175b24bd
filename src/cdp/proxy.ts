import { PATHS } from "../urls/public-urls.js";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type WebSocket from "ws";
import { WebSocketServer } from "ws";
import { AppError } from "../errors/app-error.js";

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

/** A live session as the proxy needs it: whose it is, and its CDP clients. */
export interface CdpSession {
  readonly teamId: string;
  readonly cdpClientCount: number;
  /** Serves the client as one more connection to the session's browser until either ends. */
  attachCdpClient(ws: WebSocket): void;
}

/** Where the proxy finds sessions: by the token in the URL, and a team's for its limit. */
export interface CdpSessions {
  byToken(token: string, uses: readonly ["cdp"]): { acquired: { session: CdpSession } } | undefined;
  ofTeam(teamId: string): CdpSession[];
  all(): CdpSession[];
}

export interface CdpProxyDeps {
  sessions: CdpSessions;
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
 * then becomes one more connection on the browser's CDP pipe (see cdp/mux.ts, which
 * also bounds what it may leave unread), held by the session, which closes it as it ends.
 */
export class CdpProxy {
  private readonly wss: WebSocketServer;
  private closed = false;

  constructor(private readonly deps: CdpProxyDeps) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: deps.maxMessageBytes,
      perMessageDeflate: false,
    });
  }

  /** Client connections open now, over every session. */
  get connectionCount(): number {
    return sum(this.deps.sessions.all());
  }

  /**
   * Takes over the upgrade of `/cdp/<token>` when the token names a live session with room for
   * one more connection. Otherwise the socket is left untouched and the refusal returned, for
   * the HTTP layer to answer with.
   */
  connect(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): AppError | undefined {
    if (this.closed) return new AppError("SHUTTING_DOWN", "The server is shutting down.");
    const token = cdpTokenOf(url);
    const session = token
      ? this.deps.sessions.byToken(token, ["cdp"])?.acquired.session
      : undefined;
    if (!session) return new AppError("NOT_FOUND", "Unknown or stopped browser session");
    const refused = this.tooMany(session);
    if (refused) return refused;
    // The upgrade completes within this call, so the place checked above is still free.
    this.wss.handleUpgrade(req, socket, head, (client) => session.attachCdpClient(client));
    return undefined;
  }

  /** Why one more connection to the session would be one too many, if it would. */
  private tooMany(session: CdpSession): AppError | undefined {
    const { maxPerSession, maxPerTeam } = this.deps;
    if (session.cdpClientCount >= maxPerSession) {
      return tooManyCdpConnections("session", maxPerSession);
    }
    if (maxPerTeam !== Infinity && sum(this.deps.sessions.ofTeam(session.teamId)) >= maxPerTeam) {
      return tooManyCdpConnections("team", maxPerTeam);
    }
    return undefined;
  }

  /** Stops accepting connections; those open close with their sessions. */
  close(): void {
    this.closed = true;
    this.wss.close();
  }
}

/** CDP clients connected to these sessions. */
function sum(sessions: CdpSession[]): number {
  return sessions.reduce((n, s) => n + s.cdpClientCount, 0);
}

/** The token in a `/cdp/<token>` URL, or undefined when its percent-encoding is malformed. */
export function cdpTokenOf(url: URL): string | undefined {
  return safeDecode(url.pathname.slice(CDP_PATH.length));
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

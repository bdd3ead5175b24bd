import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { BrowserContext } from "playwright-core";
import { WebSocketServer } from "ws";
import { MAX_PASTE_CHARS } from "./protocol.js";
import { parseSettings } from "./settings.js";
import { SessionStream } from "./stream.js";
import { TokenTable, type LiveViewGrant, type LiveViewTokens } from "./tokens.js";
import { Viewer } from "./viewer.js";

export interface LiveViewOptions {
  /** Viewers one session accepts at once; more are refused. */
  maxViewersPerSession?: number;
  /** Viewers one team may have over all its sessions; more are refused. */
  maxViewersPerTeam?: number;
  /** The team a session belongs to, for the team's limit. */
  teamOf?: (sessionId: string) => string | undefined;
  /** Called for every input a control viewer sends, e.g. to keep the session from idling out. */
  onInput?: (sessionId: string) => void;
}

/** Why a viewer's WebSocket was not accepted, for the HTTP layer to answer with. */
export type ConnectResult =
  | "accepted"
  | "not-found"
  /** One viewer too many for the session, or for its team over all its sessions. */
  | { tooMany: "session" | "team"; limit: number };

interface Entry {
  stream: SessionStream;
  context: BrowserContext;
  onClose: () => void;
  /** Its team, once asked (a session's team never changes). */
  team?: string;
}

/**
 * Live views of sessions: a read-only and an interactive URL per session, each showing the
 * session's current tab as a stream of JPEG frames over a WebSocket, the interactive one also
 * sending the viewer's mouse and keyboard to the page.
 */
export class LiveViewService {
  private readonly tokens = new TokenTable();
  private readonly entries = new Map<string, Entry>();
  private readonly wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false, // Frames are JPEG already; deflate would only cost CPU.
    maxPayload: MAX_PASTE_CHARS * 4 + 1024,
  });
  private readonly maxViewers: number;
  private readonly maxTeamViewers: number;
  private readonly teamOf: (sessionId: string) => string | undefined;
  private readonly onInput: (sessionId: string) => void;
  private closed = false;

  constructor(opts: LiveViewOptions = {}) {
    this.maxViewers = opts.maxViewersPerSession ?? 20;
    this.maxTeamViewers = opts.maxViewersPerTeam ?? Infinity;
    this.teamOf = opts.teamOf ?? (() => undefined);
    this.onInput = opts.onInput ?? (() => {});
  }

  /**
   * Makes a session watchable and returns its tokens. Registering the same session again (for
   * example after its browser was replaced) keeps its tokens and moves viewers to the new context.
   */
  register(sessionId: string, context: BrowserContext): LiveViewTokens {
    if (this.closed) throw new Error("live view service is closed");
    const existing = this.entries.get(sessionId);
    if (existing) {
      if (existing.context !== context) {
        existing.context.off("close", existing.onClose);
        context.on("close", existing.onClose);
        existing.context = context;
        existing.stream.replaceContext(context);
      }
      return this.tokens.issue(sessionId);
    }
    // A context that goes away (browser crashed or closed) ends the live view with it.
    const onClose = () => this.unregister(sessionId);
    context.on("close", onClose);
    this.entries.set(sessionId, { stream: new SessionStream(context), context, onClose });
    return this.tokens.issue(sessionId);
  }

  /** Ends a session's live view: viewers are told the session ended and both tokens stop working. */
  unregister(sessionId: string): void {
    this.tokens.revoke(sessionId);
    const entry = this.entries.get(sessionId);
    if (!entry) return;
    this.entries.delete(sessionId);
    entry.context.off("close", entry.onClose);
    void entry.stream.end();
  }

  /** Which session and mode a token stands for; undefined if unknown or revoked. */
  resolve(token: string): LiveViewGrant | undefined {
    return this.tokens.resolve(token);
  }

  /**
   * Takes over an HTTP upgrade for a viewer's WebSocket when the token is valid. On any other
   * result the socket is left untouched, for the caller to answer.
   */
  connect(
    token: string,
    params: URLSearchParams,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): ConnectResult {
    const grant = this.resolve(token);
    const entry = grant && this.entries.get(grant.sessionId);
    if (!grant || !entry) return "not-found";
    if (entry.stream.viewerCount >= this.maxViewers) {
      return { tooMany: "session", limit: this.maxViewers };
    }
    if (this.teamViewers(grant.sessionId, entry) >= this.maxTeamViewers) {
      return { tooMany: "team", limit: this.maxTeamViewers };
    }
    // The upgrade completes within this call: the counts above still hold when it is added.
    const settings = parseSettings(params);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = this.entries.get(grant.sessionId)?.stream ?? entry.stream;
      const viewer = new Viewer(ws, grant.mode, settings, (msg) => {
        stream.input(msg);
        this.onInput(grant.sessionId);
      });
      ws.on("close", () => stream.removeViewer(viewer));
      ws.on("error", () => ws.terminate());
      stream.addViewer(viewer);
    });
    return "accepted";
  }

  /** Viewers of every session of the team `entry`'s session belongs to. */
  private teamViewers(sessionId: string, entry: Entry): number {
    if (this.maxTeamViewers === Infinity) return 0;
    entry.team ??= this.teamOf(sessionId);
    if (entry.team === undefined) return 0;
    let n = 0;
    for (const [id, other] of this.entries) {
      other.team ??= this.teamOf(id);
      if (other.team === entry.team) n += other.stream.viewerCount;
    }
    return n;
  }

  /** Counts for health checks and tests. */
  stats(): { sessions: number; viewers: number; streaming: number } {
    let viewers = 0;
    let streaming = 0;
    for (const { stream } of this.entries.values()) {
      viewers += stream.viewerCount;
      if (stream.streaming) streaming++;
    }
    return { sessions: this.entries.size, viewers, streaming };
  }

  /** Ends every live view; called when the server shuts down. */
  close(): void {
    this.closed = true;
    for (const sessionId of [...this.entries.keys()]) this.unregister(sessionId);
    this.wss.close();
  }
}

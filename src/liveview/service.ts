import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { BrowserContext } from "playwright-core";
import { WebSocketServer } from "ws";
import type { FrameSink } from "./frame-sink.js";
import { MAX_PASTE_CHARS, type LiveViewMode } from "./protocol.js";
import { parseSettings } from "./settings.js";
import { SessionStream } from "./stream.js";
import { Viewer } from "./viewer.js";

export interface LiveViewOptions {
  /** Viewers one session accepts at once; more are refused. */
  maxViewersPerSession?: number;
  /** Viewers one team may have over all its sessions; more are refused. */
  maxViewersPerTeam?: number;
}

/** Whom a viewer's token let in: which session, its team, and whether it may send input. */
export interface LiveViewGrant {
  sessionId: string;
  teamId: string;
  mode: LiveViewMode;
  /** Called for every input a control viewer sends: keeps the session from idling out. */
  onInput(): void;
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
  /** Its team, once a viewer came (a session's team never changes). */
  team?: string;
}

/**
 * Live views of sessions: each session's current tab as a stream of JPEG frames over a
 * WebSocket, to read-only and interactive viewers, the interactive ones also sending their mouse
 * and keyboard to the page. Which session a viewer's token stands for is the session index's
 * business: a viewer arrives here with its grant.
 */
export class LiveViewService {
  private readonly entries = new Map<string, Entry>();
  private readonly wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false, // Frames are JPEG already; deflate would only cost CPU.
    maxPayload: MAX_PASTE_CHARS * 4 + 1024,
  });
  private readonly maxViewers: number;
  private readonly maxTeamViewers: number;
  private closed = false;

  constructor(opts: LiveViewOptions = {}) {
    this.maxViewers = opts.maxViewersPerSession ?? 20;
    this.maxTeamViewers = opts.maxViewersPerTeam ?? Infinity;
  }

  /** Makes a session watchable: from now on it streams to the viewers its grants let in. */
  register(sessionId: string, context: BrowserContext): void {
    if (this.closed) throw new Error("live view service is closed");
    if (this.entries.has(sessionId)) return;
    // A context that goes away (browser crashed or closed) ends the live view with it.
    const onClose = () => this.unregister(sessionId);
    context.on("close", onClose);
    this.entries.set(sessionId, { stream: new SessionStream(context), context, onClose });
  }

  /**
   * Hands a registered session's frames to `sink` too (a recording), as long as it streams;
   * false when the session does not stream here.
   */
  addSink(sessionId: string, sink: FrameSink): boolean {
    const entry = this.entries.get(sessionId);
    entry?.stream.addSink(sink);
    return entry !== undefined;
  }

  /** Ends a session's live view: its viewers are told the session ended. */
  unregister(sessionId: string): void {
    const entry = this.entries.get(sessionId);
    if (!entry) return;
    this.entries.delete(sessionId);
    entry.context.off("close", entry.onClose);
    void entry.stream.end();
  }

  /**
   * Takes over an HTTP upgrade for a viewer's WebSocket when its session streams here and has
   * room. On any other result the socket is left untouched, for the caller to answer.
   */
  connect(
    grant: LiveViewGrant,
    params: URLSearchParams,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): ConnectResult {
    const entry = this.entries.get(grant.sessionId);
    if (!entry) return "not-found";
    entry.team = grant.teamId;
    if (entry.stream.viewerCount >= this.maxViewers) {
      return { tooMany: "session", limit: this.maxViewers };
    }
    if (this.teamViewers(grant.teamId) >= this.maxTeamViewers) {
      return { tooMany: "team", limit: this.maxTeamViewers };
    }
    // The upgrade completes within this call: the counts above still hold when it is added.
    const settings = parseSettings(params);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = this.entries.get(grant.sessionId)?.stream ?? entry.stream;
      const viewer = new Viewer(ws, grant.mode, settings, (msg) => {
        stream.input(msg);
        grant.onInput();
      });
      ws.on("close", () => stream.removeViewer(viewer));
      ws.on("error", () => ws.terminate());
      stream.addViewer(viewer);
    });
    return "accepted";
  }

  /** Viewers of every session of the team (a session's team is known once a viewer came). */
  private teamViewers(teamId: string): number {
    if (this.maxTeamViewers === Infinity) return 0;
    let n = 0;
    for (const entry of this.entries.values()) {
      if (entry.team === teamId) n += entry.stream.viewerCount;
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

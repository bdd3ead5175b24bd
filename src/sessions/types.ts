import type { BrowserContext } from "playwright-core";
import type { Config } from "../config/config.js";
import type { ProfileService } from "../profiles/service.js";
import type { ClaimTerms, SessionRecord, Store } from "../store/repositories.js";
import type { SessionFactory } from "./factory.js";
import type { SessionHistory } from "./history.js";
import type { SessionEnded, SessionLifetimes } from "./lifetimes.js";
import type { LiveSession } from "./live-session.js";
import type { SessionRegistry } from "./registry.js";
import type { SessionIndex } from "./session-index.js";
import type { AcquiredSession, LiveDetails } from "./whereabouts.js";

export type { AcquiredSession, LiveDetails } from "./whereabouts.js";

/** Where a session's live view streams from; the live view module implements it. */
export interface LiveViewRegistrar {
  register(sessionId: string, context: BrowserContext): void;
  unregister(sessionId: string): void;
}

/** Records sessions that ask for it; the recording module implements it. */
export interface SessionRecordings {
  /**
   * Starts recording a session just registered with the live view, at once; never fails the
   * session. Resolves once the recording is written down.
   */
  start(session: { id: string; teamId: string; startedAt: number }): Promise<void>;
}

/** A team's terms for browser sessions (limits, credits); the teams module sets them. */
export interface SessionTerms {
  /** What a new session of this team is held to, or undefined when nothing is. */
  forNewSession(
    teamId: string,
    opts: { prompt: boolean; ttlMs: number },
  ): Promise<ClaimTerms | undefined>;
  /** Holds what a session needs once prompts run in it; refused with the figures if it can't. */
  forPrompt(
    session: LiveSession,
  ): Promise<{ ok: true } | { ok: false; needed: number; available: number }>;
}

export interface SessionServiceDeps {
  config: Pick<
    Config,
    | "maxBrowserSessions"
    | "sessionTtlMs"
    | "sessionIdleTtlMs"
    | "maxQueuedCallsPerSession"
    | "teamMaxQueuedCalls"
    | "minFreeMemoryBytes"
    | "recordInteractSessions"
  >;
  store: Pick<Store, "scrapes">;
  registry: SessionRegistry;
  /** Where every live session is found, under every key. */
  index: SessionIndex;
  factory: SessionFactory;
  lifetimes: SessionLifetimes;
  liveview?: LiveViewRegistrar;
  recordings?: SessionRecordings;
  terms?: SessionTerms;
  profiles?: ProfileService;
  /**
   * The live details of sessions another node holds, from that node (in a cluster); what it
   * does not answer for is left out.
   */
  detailsElsewhere?: (nodeId: string, sessionIds: string[]) => Promise<LiveDetails[]>;
  /** Keeps what sessions do in the record (a language's first use here). */
  history?: SessionHistory;
  /** Told of every session made, with how long making it took. */
  onCreated?: (session: LiveSession, ms: number) => void;
}

/** What stopping a session reports. */
export interface StopResult {
  /** How long it lived, when this stop ended it (a session that had ended already: none). */
  sessionDurationMs?: number;
  /** Its end; undefined when another end (a TTL, another node) came first. */
  ended: SessionEnded | undefined;
  /** False while the database has not taken the end yet: it will, with this end time. */
  recorded: boolean;
}

/** A session named by its key, as a status request sees it: alive, or how it ended. */
export type SessionState =
  { live: AcquiredSession; ended?: undefined } | { live?: undefined; ended: SessionEnded };

/** A session as recorded, with what it shows of itself while it lives (on any node). */
export interface ListedSession {
  record: SessionRecord;
  live: LiveDetails | undefined;
}

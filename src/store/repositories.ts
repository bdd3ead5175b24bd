import type { ReplayContext } from "../page-state/replay-context.js";

/** A scrape as the rest of the server sees it. */
export interface ScrapeRecord {
  id: string;
  teamId: string;
  url: string;
  finalUrl: string | null;
  statusCode: number | null;
  zeroDataRetention: boolean;
  replayContext: ReplayContext | null;
  createdAt: number;
}

export type SessionStatus = "starting" | "active" | "destroyed";

export interface SessionRecord {
  id: string;
  scrapeId: string;
  teamId: string;
  /** The node whose process holds the session's browser. */
  nodeId: string;
  status: SessionStatus;
  createdAt: number;
  destroyedAt: number | null;
  destroyReason: string | null;
  /** Last time the owning node saw the session alive. */
  seenAt: number | null;
  usedPrompt: boolean;
}

/** Either this caller now holds the scrape's session row, or someone already did. */
export type SessionClaim =
  { claimed: true; record: SessionRecord } | { claimed: false; record: SessionRecord };

export interface ScrapeRepository {
  insert(scrape: ScrapeRecord): Promise<void>;
  get(id: string): Promise<ScrapeRecord | undefined>;
}

export interface ScrapeCacheRepository {
  /** The cached document for key if it is younger than maxAgeMs. */
  get(key: string, maxAgeMs: number, now?: number): Promise<unknown | undefined>;
  put(key: string, document: unknown, now?: number): Promise<void>;
  /** Drops entries older than maxAgeMs; returns how many. */
  prune(maxAgeMs: number, now?: number): Promise<number>;
}

/** The session registry's storage: one row per scrape that ever had a session. */
export interface SessionRepository {
  /**
   * Inserts a "starting" row for the scrape unless it has one. Never fails for an existing row:
   * the loser of a race gets the winner's record.
   */
  claim(c: {
    id: string;
    scrapeId: string;
    teamId: string;
    nodeId: string;
    at: number;
  }): Promise<SessionClaim>;
  /** starting -> active, with the CDP token's digest. False when the claim is gone. */
  activate(id: string, cdpTokenHash: string, at: number): Promise<boolean>;
  /** Deletes a claim whose session never started, so the scrape can be tried again. */
  release(id: string): Promise<void>;
  getByScrape(scrapeId: string): Promise<SessionRecord | undefined>;
  /** The active session holding this CDP token digest. */
  findActiveByTokenHash(hash: string): Promise<SessionRecord | undefined>;
  /** starting/active -> destroyed. True only for the one call that made the change. */
  end(id: string, reason: string, at: number): Promise<boolean>;
  /** Ends every session of a node still starting or active; returns them as they were. */
  endNode(nodeId: string, reason: string, at: number): Promise<SessionRecord[]>;
  /** Records that a node's active sessions are still alive. */
  markSeen(nodeId: string, at: number): Promise<void>;
  markUsedPrompt(id: string): Promise<void>;
}

/** Everything the server keeps, behind small interfaces so another database can follow. */
export interface Store {
  scrapes: ScrapeRepository;
  cache: ScrapeCacheRepository;
  sessions: SessionRepository;
  /** Resolves once the database answers a trivial query; rejects when it cannot. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

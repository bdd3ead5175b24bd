import type { ReplayContext } from "../scrape/replay-context.js";

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

export interface SessionRecord {
  id: string;
  scrapeId: string;
  teamId: string;
  status: "active" | "destroyed";
  createdAt: number;
  destroyedAt: number | null;
  destroyReason: string | null;
}

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

export interface SessionRepository {
  insert(session: SessionRecord): Promise<void>;
  getByScrape(scrapeId: string): Promise<SessionRecord | undefined>;
  markDestroyed(id: string, reason: string, at?: number): Promise<void>;
  /** Marks every session still active as destroyed (used at start: no browser survives a restart). */
  destroyAllActive(reason: string, at?: number): Promise<number>;
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

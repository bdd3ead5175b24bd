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
  /** The named profile it ran with; its interact session carries it on. */
  profile?: { name: string; saveChanges: boolean } | null;
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
  kind: SessionKind;
  ttlMs: number | null;
  idleTtlMs: number | null;
  streamWebView: boolean;
  /** Languages that ran code in it, in the order first used (as last written while it lived). */
  languages: string[];
  /** Calls run in it, code and prompts (as last written while it lived). */
  calls: number;
  /** The address its newest tab last showed, as last written; null when none was. */
  lastUrl: string | null;
  /** What it was billed once settled (without authentication, what it would have cost). */
  creditsBilled: number | null;
  /** Whether a recording of it is kept. */
  recorded: boolean;
  /** How many files its browser downloaded are kept. */
  files: number;
}

/** What a session has done so far: written as it goes and at its end, kept after it. */
export interface SessionActivity {
  /** Languages that ran code in it, in the order first used (a list that only grows). */
  languages: string[];
  /** Calls run in it (a count that only grows). */
  calls: number;
  /** The address its newest tab shows; absent when unknown (the last one written stays). */
  lastUrl?: string;
}

/** Bound to a scrape (interact), or standalone (/v2/browser, bound to its own id). */
export type SessionKind = "interact" | "browser";

/** A new session's row: what a claim writes. */
export interface SessionClaimRequest {
  id: string;
  scrapeId: string;
  teamId: string;
  nodeId: string;
  at: number;
  kind?: SessionKind;
  ttlMs?: number;
  idleTtlMs?: number;
  streamWebView?: boolean;
  /** The API key that opens it: its charge will be that key's. */
  apiKeyId?: string | null;
}

/**
 * What a claim came to: this caller now holds the scrape's session row; someone already did;
 * or the team's terms refused it (its session limit, or credits for the reservation).
 */
export type SessionClaim =
  | { outcome: "claimed"; record: SessionRecord }
  | { outcome: "taken"; record: SessionRecord }
  | { outcome: "limit"; limit: number; liveStartedAt: number[] }
  | { outcome: "credits"; needed: number; available: number };

/** A team's terms for a new session, checked in the same transaction as the claim. */
export interface ClaimTerms {
  /** The team's concurrent session limit. */
  maxSessions: number;
  /** Credits to hold for the session until it is settled. */
  reserve: number;
}

export interface TeamRecord {
  id: string;
  name: string;
  /** Its own session limit, or null for the server's default. */
  maxSessions: number | null;
  createdAt: number;
}

export interface ApiKeyRecord {
  id: string;
  teamId: string;
  prefix: string;
  name: string | null;
  createdAt: number;
  revokedAt: number | null;
}

export type LedgerKind = "grant" | "reservation" | "charge" | "refund";

export interface LedgerEntry {
  id: string;
  teamId: string;
  kind: LedgerKind;
  amount: number;
  sessionId: string | null;
  scrapeId: string | null;
  note: string | null;
  at: number;
  /** On a charge: the API key that spent it, when one was asked for. */
  apiKeyId: string | null;
}

/** Credits a team used in one bin of time, by one API key or all together. */
export interface UsageRow {
  /** Which bin: `i` is from `bounds[i]` to `bounds[i + 1]`. */
  bin: number;
  /** The key that spent them (null: charges that name none); always null unless asked by key. */
  apiKeyId: string | null;
  /** Charges, less what was given back of them (a scrape's refund). */
  credits: number;
}

export interface Balance {
  /** Sum of the ledger: what the team may still spend or reserve. Never negative. */
  available: number;
  /** Held by live sessions' reservations (already taken out of available). */
  reserved: number;
}

export interface ScrapeRepository {
  insert(scrape: ScrapeRecord): Promise<void>;
  get(id: string): Promise<ScrapeRecord | undefined>;
  /** When the team's newest scrape record was written (a successful scrape), if it has any. */
  latestOfTeam(teamId: string): Promise<number | undefined>;
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
  claim(c: SessionClaimRequest, terms?: ClaimTerms): Promise<SessionClaim>;
  /**
   * starting -> active, with the CDP token's digest (and the live view tokens' digests, so any
   * node can find the session a token opens). False when the claim is gone.
   */
  activate(
    id: string,
    cdpTokenHash: string,
    at: number,
    viewTokenHashes?: { view: string; control: string },
  ): Promise<boolean>;
  /**
   * Deletes a claim whose session never started (still starting, or activated by a write
   * whose answer was lost), so the scrape can be tried again, and gives back what it reserved.
   */
  release(id: string, at: number): Promise<void>;
  getByScrape(scrapeId: string): Promise<SessionRecord | undefined>;
  /** The active session holding this CDP token digest. */
  findActiveByTokenHash(hash: string): Promise<SessionRecord | undefined>;
  /**
   * The active session one of whose tokens (CDP, read-only or interactive live view) has this
   * digest, and which of them it is.
   */
  ownerOfToken(hash: string): Promise<{ record: SessionRecord; use: TokenUse } | undefined>;
  /**
   * starting/active -> destroyed, with what it did up to its end when given. True only for the
   * one call that made the change.
   */
  end(id: string, reason: string, at: number, activity?: SessionActivity): Promise<boolean>;
  /**
   * Writes what a live session has done so far, as of `at` (when it was seen alive, as a
   * heartbeat would). Writes that arrive out of order never shrink what is kept (fewer
   * languages or calls, an earlier time); a session that ended keeps what its end wrote.
   */
  recordActivity(id: string, activity: SessionActivity, at: number): Promise<void>;
  /** What an ended session was billed (or, without authentication, would have cost). */
  markBilled(id: string, credits: number): Promise<void>;
  /** A recording of the session is kept. */
  markRecorded(id: string): Promise<void>;
  /** `count` more files the session's browser downloaded are kept (1 by default). */
  countFile(id: string, count?: number): Promise<void>;
  /**
   * Ends every session of a node still starting or active (its browsers died unseen), as of
   * the last time each was seen alive; returns the ones this call ended, so that however many
   * nodes call it at once, each session is returned once.
   */
  endNode(nodeId: string, reason: string): Promise<SessionRecord[]>;
  /**
   * As `endNode`, for every node declared lost at or before `lostBefore` that still has sessions
   * on record as live (the node that declared it stopped before ending them).
   */
  endOfLostNodes(lostBefore: number, reason: string): Promise<SessionRecord[]>;
  /**
   * Records that a node's active sessions are still alive; with `only`, just those (the ones
   * the node holds alive), so that a session that ended keeps the end time it had.
   */
  markSeen(nodeId: string, at: number, only?: readonly string[]): Promise<void>;
  markUsedPrompt(id: string): Promise<void>;
  /** A team's sessions still starting or active, on any node. */
  liveOfTeam(teamId: string): Promise<SessionRecord[]>;
  /** A team's sessions, newest first, as the query asks. */
  listOfTeam(teamId: string, query: SessionQuery): Promise<SessionRecord[]>;
}

/** What a session's token lets its bearer do: a CDP connection, or a live view. */
export type TokenUse = "cdp" | "view" | "control";

/** A node of the cluster as it last published itself. */
export interface NodeRecord {
  id: string;
  /** Where the other nodes reach it (its NODE_URL). */
  url: string;
  /** Sessions it may hold at once (its MAX_BROWSER_SESSIONS). */
  capacity: number;
  /** Sessions alive or being made there. */
  live: number;
  draining: boolean;
  startedAt: number;
  heartbeatAt: number;
  /** When another node declared it lost, or null. */
  lostAt: number | null;
}

/** What a node publishes of itself. */
export type NodeAnnouncement = Omit<NodeRecord, "lostAt">;

/** The cluster's members, each publishing itself, and the decision that one of them is lost. */
export interface NodeRepository {
  /**
   * Writes the node's row. A heartbeat (`start` false) never clears a draining flag someone
   * else set (the admin command) nor a loss another node declared: it answers `lost` and writes
   * nothing then. `start` (a node starting, or rejoining after it was declared lost) writes the
   * row whole: not lost, draining only as announced.
   */
  publish(n: NodeAnnouncement, start: boolean): Promise<{ lost: boolean; draining: boolean }>;
  /** Every node ever published, lost ones included. */
  list(): Promise<NodeRecord[]>;
  get(id: string): Promise<NodeRecord | undefined>;
  /**
   * Declares the node lost at `at` if its heartbeat is older than `cutoff` and nobody has yet:
   * true for the one call that did.
   */
  markLost(id: string, cutoff: number, at: number): Promise<boolean>;
  /** Sets or clears its draining flag; false for an unknown node. */
  setDraining(id: string, draining: boolean): Promise<boolean>;
}

/** Which of a team's sessions a listing wants. */
export interface SessionQuery {
  /** One kind, or both when absent. */
  kind?: SessionKind;
  status: "live" | "destroyed" | "all";
  limit: number;
  /** Leave out sessions that ended before this time (ms since the epoch). */
  endedSince?: number;
}

export interface TeamRepository {
  /** Inserts a team; undefined when the name is taken. */
  create(t: { id: string; name: string; at: number }): Promise<TeamRecord | undefined>;
  /** By id or by name. */
  find(idOrName: string): Promise<TeamRecord | undefined>;
  list(): Promise<TeamRecord[]>;
  /** null puts the team back on the server's default. False for an unknown team. */
  setMaxSessions(id: string, max: number | null): Promise<boolean>;
}

export interface ApiKeyRepository {
  create(k: {
    id: string;
    teamId: string;
    hash: string;
    prefix: string;
    name: string | null;
    at: number;
  }): Promise<void>;
  /** The unrevoked key with this digest. */
  findActive(hash: string): Promise<ApiKeyRecord | undefined>;
  list(teamId: string): Promise<ApiKeyRecord[]>;
  /** True when this call revoked it; false when unknown or revoked already. */
  revoke(id: string, at: number): Promise<boolean>;
}

/**
 * The credits ledger. Every method that takes credits checks and writes in one transaction
 * under the team's lock, so two requests at once never spend the same credit twice.
 */
export interface CreditRepository {
  grant(teamId: string, amount: number, note: string | null, at: number): Promise<Balance>;
  balance(teamId: string): Promise<Balance>;
  /** Every credit ever granted to the team, together. */
  granted(teamId: string): Promise<number>;
  /** Newest first. */
  entries(teamId: string, limit: number): Promise<LedgerEntry[]>;
  /**
   * Takes `amount` for a scrape if the balance allows. A second call with the same ref takes
   * nothing more. The charge stays open until the scrape is stored (ScrapeRepository.insert)
   * or it is refunded (resolveScrapeCharge); `nodeId` is the node whose scrape it pays for,
   * `apiKeyId` the key that asked for it.
   */
  spend(e: {
    teamId: string;
    amount: number;
    scrapeId: string;
    nodeId: string;
    ref: string;
    note: string;
    at: number;
    apiKeyId?: string | null;
  }): Promise<{ ok: true } | { ok: false; available: number }>;
  /**
   * Closes a scrape's open charge by its outcome: kept when the scrape was stored, otherwise
   * `amount` of it (all when left out; 0 records the price kept) refunded with `ref`, in one
   * transaction, once; "none" when no charge is open.
   */
  resolveScrapeCharge(e: {
    scrapeId: string;
    ref: string;
    note: string;
    amount?: number;
    at: number;
  }): Promise<"none" | "stored" | "refunded">;
  /**
   * Scrapes whose charge is still open: any node's charged before `before` (by then no scrape
   * can still be running) and, with `nodeId`, every one that node charged; oldest first.
   */
  openScrapeCharges(q: { nodeId?: string; before: number; limit: number }): Promise<string[]>;
  /** Gives credits back once per ref (a scrape that failed). */
  refund(e: {
    teamId: string;
    amount: number;
    scrapeId: string | null;
    ref: string;
    note: string;
    at: number;
  }): Promise<void>;
  /**
   * Raises what a live session holds to `total` (a prompt raises its rate). Refused when the
   * team lacks the difference; nothing happens when it holds that much already or is settled.
   */
  reserveUpTo(e: {
    teamId: string;
    sessionId: string;
    total: number;
    note: string;
    at: number;
  }): Promise<{ ok: true } | { ok: false; needed: number; available: number }>;
  /**
   * Settles an ended session once: its reservations come back and `charge` is taken, never
   * more than the team holds, as the key's that opened it, and written on the session's row
   * (`creditsBilled`). Returns what was charged, by this call or an earlier one.
   */
  settle(e: { teamId: string; sessionId: string; charge: number; at: number }): Promise<number>;
  /** Ended sessions whose reservations were never settled (the settling run died). */
  unsettled(): Promise<SessionRecord[]>;
  /**
   * What the team used in each bin of `bounds` (ascending edges, at least two): its charges
   * taken then, each less what was refunded of it, summed per bin and, with `byKey`, per key.
   * Bins and keys with no charge are left out.
   */
  usage(q: { teamId: string; bounds: readonly number[]; byKey: boolean }): Promise<UsageRow[]>;
}

export interface ProfileRecord {
  teamId: string;
  name: string;
  createdAt: number;
  updatedAt: number | null;
  /** Bytes of saved state (0 when nothing was saved yet). */
  size: number;
  /** Whether a writer holds it right now. */
  inUse: boolean;
}

/** Named browser profiles, always looked up within one team. */
export interface ProfileRepository {
  /**
   * The profile's saved state (created empty if new). With a writer, also takes the write
   * lease until `until`, unless another writer's lease is still running: then "busy".
   */
  checkout(p: {
    teamId: string;
    name: string;
    writer?: { id: string; until: number };
    at: number;
  }): Promise<{ ok: true; state: unknown | null } | { ok: false; busyUntil: number }>;
  /** Writes the state back and ends the lease; false (nothing written) unless `writerId` held it. */
  save(p: {
    teamId: string;
    name: string;
    writerId: string;
    state: unknown;
    at: number;
  }): Promise<boolean>;
  /** Ends the lease without writing. */
  release(p: { teamId: string; name: string; writerId: string }): Promise<void>;
  list(teamId: string, at: number): Promise<ProfileRecord[]>;
  /** Deletes it unless a writer holds it. */
  delete(teamId: string, name: string, at: number): Promise<"deleted" | "missing" | "in_use">;
}

/** A stored file's type and length, without its bytes. */
export interface FileInfo {
  contentType: string;
  size: number;
}

/**
 * Screenshots and PDFs kept in the database, so that every node on it serves them. A file is
 * written once under a fresh name and never changed, so its bytes can be read in pieces.
 */
export interface FileRepository {
  put(f: { name: string; contentType: string; bytes: Buffer; at: number }): Promise<void>;
  /** Its type and length, or undefined for a name never written. */
  info(name: string): Promise<FileInfo | undefined>;
  /**
   * Up to `length` bytes from `offset` (0-based); empty past the end, undefined when the file
   * is gone.
   */
  slice(name: string, offset: number, length: number): Promise<Buffer | undefined>;
  /** Deletes these files (names never written are ignored). */
  remove(names: string[]): Promise<void>;
}

/** A file a session's browser downloaded, as kept; `file` is null when it failed. */
export interface DownloadRecord {
  /** Random, and the only key of its public URL. */
  id: string;
  sessionId: string;
  /** What the session is named by in routes: its own id, or its scrape's. */
  sessionKey: string;
  teamId: string;
  /** The name the page gave it, cleaned; never a path on the host. */
  name: string;
  mimeType: string;
  size: number;
  state: "completed" | "failed";
  /** The bytes' name in the file store. */
  file: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface DownloadRepository {
  add(d: DownloadRecord): Promise<void>;
  /** A session's downloads, oldest first. */
  ofSession(sessionKey: string): Promise<DownloadRecord[]>;
  get(id: string): Promise<DownloadRecord | undefined>;
  /** Moves the expiry of one session's downloads (to its end plus the retention). */
  expireWith(sessionId: string, expiresAt: number): Promise<void>;
  /** Downloads whose time is up at `now`, up to `limit`. */
  expired(now: number, limit: number): Promise<DownloadRecord[]>;
  remove(id: string): Promise<void>;
}

/** One stored page of a recording. */
export interface RecordedPage {
  pageId: number;
  pageUrl: string;
  /** ms from the session's start */
  startMs: number;
  endMs: number;
  playlist: string;
  /** The segments' public file names, in playing order. */
  segments: string[];
  bytes: number;
}

/** A recorded session as stored. */
export interface RecordingRecord {
  sessionId: string;
  teamId: string;
  startedAt: number;
  endedAt: number | null;
}

/** Session recordings: which sessions are recorded and their finished pages. */
export interface RecordingRepository {
  begin(r: { sessionId: string; teamId: string; startedAt: number }): Promise<void>;
  addPage(sessionId: string, page: RecordedPage): Promise<void>;
  end(sessionId: string, at: number): Promise<void>;
  get(sessionId: string): Promise<RecordingRecord | undefined>;
  /** Its finished pages, by pageId. */
  pages(sessionId: string): Promise<RecordedPage[]>;
  page(sessionId: string, pageId: number): Promise<RecordedPage | undefined>;
  /** Recordings of sessions started before `before`, oldest first, `limit` at most. */
  startedBefore(before: number, limit: number): Promise<RecordingRecord[]>;
  /** Deletes the recording and its pages' rows (their segment files are the caller's). */
  remove(sessionId: string): Promise<void>;
}

/** Everything the server keeps, behind small interfaces so another database can follow. */
export interface Store {
  scrapes: ScrapeRepository;
  cache: ScrapeCacheRepository;
  sessions: SessionRepository;
  teams: TeamRepository;
  keys: ApiKeyRepository;
  credits: CreditRepository;
  profiles: ProfileRepository;
  files: FileRepository;
  recordings: RecordingRepository;
  nodes: NodeRepository;
  downloads: DownloadRepository;
  /** Which database holds it all. */
  readonly dialect: "sqlite" | "postgres";
  /** Resolves once the database answers a trivial query; rejects when it cannot. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

import { hashToken, newToken, TOKEN_SHAPE } from "../auth/tokens.js";
import type { ScrapeRecord, SessionKind, Store, TokenUse } from "../store/repositories.js";
import { AppError, MESSAGES } from "../errors/app-error.js";
import { checkTeam } from "./errors.js";
import type { LiveSession } from "./live-session.js";
import type { SessionRegistry } from "./registry.js";
import { foundFromRecord, type AcquiredSession, type Found } from "./whereabouts.js";

export type { Found } from "./whereabouts.js";

export type { TokenUse } from "../store/repositories.js";

/** A token's session and what the token lets its bearer do with it. */
export interface TokenGrant {
  use: TokenUse;
  acquired: AcquiredSession;
}

/** A new session's two live view tokens: read-only and interactive. */
export function newViewTokens(): { viewToken: string; controlToken: string } {
  return { viewToken: newToken(), controlToken: newToken() };
}

/** Ends remembered here until the shared record has them too; past this many, oldest first out. */
const MAX_REMEMBERED_ENDS = 10_000;

export interface SessionIndexDeps {
  store: Pick<Store, "scrapes">;
  registry: SessionRegistry;
}

/**
 * Every session of this node, under every key a request can carry: its key (the scrape id of an
 * interact session, the id of a standalone browser session), its CDP token and its two live
 * view tokens. Routes, the CDP proxy and the live view all find sessions here, and `remove()`
 * forgets one under all its keys at once. For a key not live here, `lookup` asks the shared
 * record whether the session ended or another node holds it.
 */
export class SessionIndex {
  private readonly byKey = new Map<string, AcquiredSession>();
  private readonly byTokenHash = new Map<string, TokenGrant>();
  private readonly byTeam = new Map<string, Set<AcquiredSession>>();
  private readonly creating = new Map<string, Promise<AcquiredSession>>();
  /**
   * Why sessions of this node ended, by key, until the registry has it too: a call arriving
   * between the end and its record must hear the real reason.
   */
  private readonly endedHere = new Map<string, string>();
  private readonly removedListeners: ((s: LiveSession) => void)[] = [];

  constructor(private readonly deps: SessionIndexDeps) {}

  /** This node's id, as the shared record knows it. */
  get nodeId(): string {
    return this.deps.registry.nodeId;
  }

  /** Sessions alive here or being made. */
  get activeCount(): number {
    return this.byKey.size + this.creating.size;
  }

  /** Sessions being made here. */
  get creatingCount(): number {
    return this.creating.size;
  }

  /** Every live session of this node. */
  all(): LiveSession[] {
    return [...this.byKey.values()].map((a) => a.session);
  }

  /** The live sessions of one team on this node. */
  ofTeam(teamId: string): LiveSession[] {
    return [...(this.byTeam.get(teamId) ?? [])].map((a) => a.session);
  }

  /** Called with every session removed, once, as it starts ending. */
  onRemoved(cb: (s: LiveSession) => void): void {
    this.removedListeners.push(cb);
  }

  /**
   * Marks `key` as being made until `making` settles: later callers for the key wait for it
   * instead of making a second session. `making` must add the session itself when it succeeds.
   */
  async making(key: string, making: Promise<AcquiredSession>): Promise<AcquiredSession> {
    this.creating.set(key, making);
    try {
      return await making;
    } finally {
      this.creating.delete(key);
    }
  }

  /** Whether `key` is being made here now. */
  isCreating(key: string): boolean {
    return this.creating.has(key);
  }

  /** Waits for every session being made (shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.creating.values()]);
  }

  /**
   * A new live session, under its key and tokens: its live view tokens as given (made before
   * the session's record went active, which keeps their digests), else made here.
   */
  add(
    session: LiveSession,
    key: string,
    views: { viewToken: string; controlToken: string } = newViewTokens(),
  ): AcquiredSession {
    const acquired: AcquiredSession = { session, ...views };
    this.byKey.set(key, acquired);
    this.byTokenHash.set(hashToken(session.cdpToken), { use: "cdp", acquired });
    this.byTokenHash.set(hashToken(acquired.viewToken), { use: "view", acquired });
    this.byTokenHash.set(hashToken(acquired.controlToken), { use: "control", acquired });
    let team = this.byTeam.get(session.teamId);
    if (!team) this.byTeam.set(session.teamId, (team = new Set()));
    team.add(acquired);
    return acquired;
  }

  /** Forgets a session under every key, remembering why it ended. Idempotent. */
  remove(session: LiveSession): void {
    const acquired = this.byKey.get(session.scrapeId);
    if (acquired?.session !== session) return;
    this.byKey.delete(session.scrapeId);
    this.byTokenHash.delete(hashToken(session.cdpToken));
    this.byTokenHash.delete(hashToken(acquired.viewToken));
    this.byTokenHash.delete(hashToken(acquired.controlToken));
    const team = this.byTeam.get(session.teamId);
    team?.delete(acquired);
    if (team?.size === 0) this.byTeam.delete(session.teamId);
    this.endedHere.set(session.scrapeId, session.endedBy ?? "stopped");
    // Bounded: an end that never gets recorded (the database is down) is not kept for ever.
    if (this.endedHere.size > MAX_REMEMBERED_ENDS) {
      this.endedHere.delete(this.endedHere.keys().next().value!);
    }
    for (const cb of this.removedListeners) {
      try {
        cb(session);
      } catch {}
    }
  }

  /** The shared record has the end of the session bound to `key`: nothing to remember here. */
  endRecorded(key: string): void {
    this.endedHere.delete(key);
  }

  /** The live session a token stands for, if the token is one of `uses`; else undefined. */
  byToken(token: string, uses: readonly TokenUse[]): TokenGrant | undefined {
    if (!TOKEN_SHAPE.test(token)) return undefined;
    const grant = this.byTokenHash.get(hashToken(token));
    return grant?.acquired.session.alive && uses.includes(grant.use) ? grant : undefined;
  }

  /** The live session bound to `key` on this node, whoever's it is. */
  peek(key: string): AcquiredSession | undefined {
    const found = this.byKey.get(key);
    return found?.session.alive ? found : undefined;
  }

  /**
   * Where the `kind` session bound to `key` is, for the team `teamId`: 404 when there is no such
   * scrape or session, 403 when it is another team's. Nothing waits: a session being made is
   * `creating`.
   */
  async lookup(key: string, kind: SessionKind, teamId: string): Promise<Found> {
    const pending = this.creating.get(key);
    if (pending) return { state: "creating", ready: pending };
    const live = this.peek(key);
    if (live && live.session.shape.kind === kind) {
      checkTeam(live.session.teamId, teamId);
      return { state: "live", acquired: live };
    }
    const record = await this.deps.registry.get(key);
    let scrape: ScrapeRecord | undefined;
    // Who may hear about the key is decided by what it names: a scrape, or a browser session.
    if (kind === "interact") {
      scrape = await this.deps.store.scrapes.get(key);
      if (!scrape) throw new AppError("JOB_NOT_FOUND", MESSAGES.jobNotFound);
      checkTeam(scrape.teamId, teamId);
    } else {
      if (record?.kind !== kind) throw new AppError("SESSION_NOT_FOUND", MESSAGES.sessionNotFound);
      checkTeam(record.teamId, teamId);
    }
    const reason = this.endedHere.get(key);
    if (reason) return { state: "ended", reason };
    if (!record) return { state: "absent", scrape };
    return foundFromRecord(record, this.nodeId);
  }

  /** Like lookup, after waiting out a session being made (successfully or not). */
  async settledLookup(
    key: string,
    kind: SessionKind,
    teamId: string,
  ): Promise<Exclude<Found, { state: "creating" }>> {
    for (;;) {
      const found = await this.lookup(key, kind, teamId);
      if (found.state !== "creating") return found;
      await found.ready.catch(() => undefined);
    }
  }
}

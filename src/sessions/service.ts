import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { BrowserContext } from "playwright-core";
import type { Config } from "../config/config.js";
import { AppError, MESSAGES } from "../errors/app-error.js";
import type { Store } from "../store/repositories.js";
import { LiveSession, type DestroyReason, type SessionResources } from "./live-session.js";
import { restoreReplayContext } from "./restore.js";

/** Where live view tokens come from; the live view module implements it. */
export interface LiveViewRegistrar {
  register(sessionId: string, context: BrowserContext): { viewToken: string; controlToken: string };
  unregister(sessionId: string): void;
}

export interface SessionServiceDeps {
  config: Config;
  store: Store;
  /** Hands out started resources (from the warm pool when it has some). */
  takeResources: () => Promise<SessionResources>;
  /** Throws an AppError (503) when this machine cannot run sessions at all. */
  assertAvailable: () => void;
  liveview?: LiveViewRegistrar;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

export interface AcquiredSession {
  session: LiveSession;
  viewToken: string;
  controlToken: string;
}

const RESTORE_TIMEOUT_MS = 30_000;
const WORKER_SYNC = 'await page.waitForLoadState("load", { timeout: 4000 }).catch(() => {});';

/**
 * Owns every live session: creates one per scrape on first use (once, however many calls race),
 * enforces the server-wide cap and the lifetimes, and destroys for good.
 */
export class SessionService {
  private readonly live = new Map<string, AcquiredSession>();
  private readonly creating = new Map<string, Promise<AcquiredSession>>();
  private readonly byCdpToken = new Map<string, LiveSession>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly deps: SessionServiceDeps) {
    this.sweeper = setInterval(() => this.sweep(), 1_000);
    this.sweeper.unref();
  }

  /** Sessions alive or being created. */
  activeCount(): number {
    return this.live.size + this.creating.size;
  }

  /** The live session for a scrape, creating it at the scrape's page state if there is none. */
  async acquire(scrapeId: string, teamId: string): Promise<AcquiredSession> {
    const existing = this.live.get(scrapeId);
    if (existing?.session.alive) {
      this.checkTeam(existing.session.teamId, teamId);
      return existing;
    }
    const pending = this.creating.get(scrapeId);
    if (pending) {
      const got = await pending;
      this.checkTeam(got.session.teamId, teamId);
      return got;
    }
    const creation = this.create(scrapeId, teamId);
    this.creating.set(scrapeId, creation);
    try {
      return await creation;
    } finally {
      this.creating.delete(scrapeId);
    }
  }

  /** The live session of a scrape, if it has one. */
  get(scrapeId: string): LiveSession | undefined {
    const s = this.live.get(scrapeId)?.session;
    return s?.alive ? s : undefined;
  }

  /** Marks activity on a session by id (live view input), for the idle timer. */
  touchSession(sessionId: string): void {
    for (const { session } of this.live.values()) if (session.id === sessionId) session.touch();
  }

  /** Looks up a live session by its CDP token (the proxy's only way in). */
  findByCdpToken(token: string): LiveSession | undefined {
    const s = this.byCdpToken.get(tokenKey(token));
    return s?.alive ? s : undefined;
  }

  /** Stops the session bound to a scrape; returns how long it lived. */
  async destroy(scrapeId: string, teamId: string): Promise<{ sessionDurationMs: number }> {
    const pending = this.creating.get(scrapeId);
    if (pending) await pending.catch(() => undefined);
    const got = this.live.get(scrapeId);
    if (got) {
      this.checkTeam(got.session.teamId, teamId);
      await got.session.destroy("stopped");
      return { sessionDurationMs: Date.now() - got.session.createdAt };
    }
    const scrape = await this.deps.store.scrapes.get(scrapeId);
    if (!scrape) throw new AppError("JOB_NOT_FOUND", MESSAGES.jobNotFound);
    this.checkTeam(scrape.teamId, teamId);
    const record = await this.deps.store.sessions.getByScrape(scrapeId);
    if (!record) throw new AppError("SESSION_NOT_FOUND", MESSAGES.sessionNotFound);
    throw destroyedError(record.destroyReason);
  }

  private checkTeam(owner: string, caller: string): void {
    if (owner !== caller) throw new AppError("FORBIDDEN", MESSAGES.forbidden);
  }

  private async create(scrapeId: string, teamId: string): Promise<AcquiredSession> {
    if (this.closed) throw new AppError("SHUTTING_DOWN", "The server is shutting down.");
    const scrape = await this.deps.store.scrapes.get(scrapeId);
    if (!scrape) throw new AppError("JOB_NOT_FOUND", MESSAGES.jobNotFound);
    this.checkTeam(scrape.teamId, teamId);
    const record = await this.deps.store.sessions.getByScrape(scrapeId);
    if (record) throw destroyedError(record.destroyReason);
    if (!scrape.replayContext) {
      throw new AppError("REPLAY_CONTEXT_UNAVAILABLE", MESSAGES.replayUnavailable);
    }
    // `creating` already holds this very creation, hence ">" rather than ">=".
    if (this.live.size + this.creating.size > this.deps.config.maxBrowserSessions) {
      throw new AppError("TOO_MANY_SESSIONS", MESSAGES.tooManySessions);
    }
    this.deps.assertAvailable();

    let resources: SessionResources;
    try {
      resources = await this.deps.takeResources();
    } catch (err) {
      this.deps.log.warn({ err }, "could not start a browser for a session");
      throw new AppError("BROWSER_FAILED", "Failed to start a browser for this session.");
    }
    try {
      await restoreReplayContext(resources, scrape.replayContext, Date.now() + RESTORE_TIMEOUT_MS);
    } catch (err) {
      await resources.release();
      this.deps.log.warn({ err, scrapeId }, "restoring the replay context failed");
      throw new AppError("REPLAY_CONTEXT_UNAVAILABLE", MESSAGES.replayUnavailable);
    }
    // Connects the worker to the restored page before the user's first call runs.
    await resources.worker.exec(WORKER_SYNC, 5_000);

    const session = new LiveSession(
      randomUUID(),
      scrapeId,
      teamId,
      randomBytes(32).toString("base64url"),
      resources,
    );
    try {
      await this.deps.store.sessions.insert({
        id: session.id,
        scrapeId,
        teamId,
        status: "active",
        createdAt: session.createdAt,
        destroyedAt: null,
        destroyReason: null,
      });
    } catch (err) {
      await resources.release();
      throw err;
    }
    const tokens = this.deps.liveview?.register(session.id, resources.context) ?? {
      viewToken: randomBytes(32).toString("base64url"),
      controlToken: randomBytes(32).toString("base64url"),
    };
    const acquired: AcquiredSession = { session, ...tokens };
    this.live.set(scrapeId, acquired);
    this.byCdpToken.set(tokenKey(session.cdpToken), session);
    session.whenDestroyed((s) => this.forget(s));
    if (this.closed) await session.destroy("shutdown");
    return acquired;
  }

  private forget(s: LiveSession): void {
    this.live.delete(s.scrapeId);
    this.byCdpToken.delete(tokenKey(s.cdpToken));
    this.deps.liveview?.unregister(s.id);
    const reason: DestroyReason = s.destroyedBy ?? "stopped";
    if (reason === "browser_crashed")
      this.deps.log.warn({ sessionId: s.id }, "session browser crashed");
    void this.deps.store.sessions.markDestroyed(s.id, reason).catch(() => undefined);
  }

  /** Destroys sessions past their lifetime or idle for too long. */
  sweep(now = Date.now()): void {
    const { sessionTtlMs, sessionIdleTtlMs } = this.deps.config;
    for (const { session } of this.live.values()) {
      if (now - session.createdAt >= sessionTtlMs) void session.destroy("ttl");
      else if (session.busy === 0 && now - session.lastUsedAt >= sessionIdleTtlMs) {
        void session.destroy("idle");
      }
    }
  }

  /** Destroys every session; later calls are refused. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.creating.values()]);
    await Promise.all([...this.live.values()].map(({ session }) => session.destroy("shutdown")));
  }
}

/** Tokens are looked up by digest, so lookup time says nothing about how much of a guess matched. */
function tokenKey(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** 410 with the reason the session ended (stopped, ttl, idle, browser_crashed, server_restarted). */
function destroyedError(reason: string | null): AppError {
  return new AppError("SESSION_DESTROYED", MESSAGES.sessionDestroyed, {
    reason: reason ?? "stopped",
  });
}

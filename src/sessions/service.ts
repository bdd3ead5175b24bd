import type { BrowserContext } from "playwright-core";
import { hashToken, newToken } from "../auth/tokens.js";
import type { Config } from "../config/config.js";
import { AppError, MESSAGES } from "../errors/app-error.js";
import type { ClaimTerms, SessionClaim, SessionRecord, Store } from "../store/repositories.js";
import type { SessionFactory } from "./factory.js";
import type { SessionEnded, SessionLifetimes } from "./lifetimes.js";
import { LiveSession } from "./live-session.js";
import type { SessionRegistry } from "./registry.js";

/** Where live view tokens come from; the live view module implements it. */
export interface LiveViewRegistrar {
  register(sessionId: string, context: BrowserContext): { viewToken: string; controlToken: string };
  unregister(sessionId: string): void;
}

/** A team's terms for browser sessions (limits, credits); the teams module sets them. */
export interface SessionTerms {
  /** What a new session of this team is held to, or undefined when nothing is. */
  forNewSession(teamId: string, opts: { prompt: boolean }): Promise<ClaimTerms | undefined>;
  /** Holds what a session needs once prompts run in it; refused with the figures if it can't. */
  forPrompt(
    session: LiveSession,
  ): Promise<{ ok: true } | { ok: false; needed: number; available: number }>;
}

export interface SessionServiceDeps {
  config: Pick<Config, "maxBrowserSessions" | "sessionTtlMs" | "sessionIdleTtlMs">;
  store: Pick<Store, "scrapes">;
  registry: SessionRegistry;
  factory: SessionFactory;
  lifetimes: SessionLifetimes;
  liveview?: LiveViewRegistrar;
  terms?: SessionTerms;
}

export interface AcquiredSession {
  session: LiveSession;
  viewToken: string;
  controlToken: string;
}

/**
 * The way in to sessions: finds a scrape's live session or has one made (once, however many
 * calls race), checks who may use it and the server-wide cap, and stops it on request. Making
 * is the factory's job, ending the lifetimes', the shared record the registry's.
 */
export class SessionService {
  private readonly live = new Map<string, AcquiredSession>();
  private readonly creating = new Map<string, Promise<AcquiredSession>>();
  private readonly byCdpToken = new Map<string, LiveSession>();
  /**
   * Why sessions of this node ended, by scrape, until the registry has it too: a call arriving
   * between the end and its record must hear the real reason.
   */
  private readonly endedHere = new Map<string, string>();
  private closed = false;

  constructor(private readonly deps: SessionServiceDeps) {
    deps.lifetimes.onEnding((s) => this.forget(s));
    deps.lifetimes.onEnded((e) => this.endedHere.delete(e.scrapeId));
  }

  /** Sessions alive or being created. */
  activeCount(): number {
    return this.live.size + this.creating.size;
  }

  /**
   * The live session for a scrape, creating it at the scrape's page state if there is none.
   * `prompt` says the call runs a prompt, so a new session is held to the prompt's terms.
   */
  async acquire(
    scrapeId: string,
    teamId: string,
    opts: { prompt?: boolean } = {},
  ): Promise<AcquiredSession> {
    const existing = this.live.get(scrapeId);
    if (existing?.session.alive) {
      checkTeam(existing.session.teamId, teamId);
      return existing;
    }
    const pending = this.creating.get(scrapeId);
    if (pending) {
      const got = await pending;
      checkTeam(got.session.teamId, teamId);
      return got;
    }
    const creation = this.create(scrapeId, teamId, opts.prompt ?? false);
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

  /** Every live session (for listing). */
  list(): LiveSession[] {
    return [...this.live.values()].map((a) => a.session).filter((s) => s.alive);
  }

  /** Marks activity on a session by id (live view input), for the idle timer. */
  touchSession(sessionId: string): void {
    for (const { session } of this.live.values()) if (session.id === sessionId) session.touch();
  }

  /**
   * Records that a prompt runs in the session: from now on it bills at the prompt rate, so the
   * team's terms may first need more credits held (402 when it lacks them).
   */
  async markUsedPrompt(session: LiveSession): Promise<void> {
    if (session.usedPrompt) return;
    const held = await this.deps.terms?.forPrompt(session);
    if (held && !held.ok) throw insufficientCredits(held, "a prompt in this browser session");
    if (session.usedPrompt) return;
    session.usedPrompt = true;
    await this.deps.registry.markUsedPrompt(session.id);
  }

  /** Looks up a live session by its CDP token (the proxy's only way in). */
  findByCdpToken(token: string): LiveSession | undefined {
    const s = this.byCdpToken.get(hashToken(token));
    return s?.alive ? s : undefined;
  }

  /**
   * Stops the session bound to a scrape; returns how long it lived and its end as recorded
   * (undefined when the record could not be written; the next start settles it).
   */
  async destroy(
    scrapeId: string,
    teamId: string,
  ): Promise<{ sessionDurationMs: number; ended: SessionEnded | undefined }> {
    const pending = this.creating.get(scrapeId);
    if (pending) await pending.catch(() => undefined);
    const got = this.live.get(scrapeId);
    if (got) {
      checkTeam(got.session.teamId, teamId);
      const ended = await this.deps.lifetimes.end(got.session, "stopped");
      const endedAt = ended?.endedAt ?? Date.now();
      return { sessionDurationMs: endedAt - got.session.startedAt, ended };
    }
    const scrape = await this.deps.store.scrapes.get(scrapeId);
    if (!scrape) throw new AppError("JOB_NOT_FOUND", MESSAGES.jobNotFound);
    checkTeam(scrape.teamId, teamId);
    const reason = this.endedHere.get(scrapeId);
    if (reason) throw destroyed(reason);
    const record = await this.deps.registry.get(scrapeId);
    if (!record) throw new AppError("SESSION_NOT_FOUND", MESSAGES.sessionNotFound);
    throw unusable(record, this.deps.registry.nodeId);
  }

  private async create(
    scrapeId: string,
    teamId: string,
    prompt: boolean,
  ): Promise<AcquiredSession> {
    if (this.closed) throw new AppError("SHUTTING_DOWN", "The server is shutting down.");
    const scrape = await this.deps.store.scrapes.get(scrapeId);
    if (!scrape) throw new AppError("JOB_NOT_FOUND", MESSAGES.jobNotFound);
    checkTeam(scrape.teamId, teamId);
    const reason = this.endedHere.get(scrapeId);
    if (reason) throw destroyed(reason);
    const record = await this.deps.registry.get(scrapeId);
    if (record) throw unusable(record, this.deps.registry.nodeId);
    if (!scrape.replayContext) {
      throw new AppError("REPLAY_CONTEXT_UNAVAILABLE", MESSAGES.replayUnavailable);
    }
    // `creating` already holds this very creation, hence ">" rather than ">=".
    const max = this.deps.config.maxBrowserSessions;
    if (this.live.size + this.creating.size > max) {
      throw tooManySessions(max, this.freeSlotAt([...this.live.values()].map((a) => a.session)));
    }
    this.deps.factory.assertAvailable();

    // The row first: a browser is only paid for once the scrape's session is ours to make, and
    // the team's limit and credits are decided in the same step.
    const terms = await this.deps.terms?.forNewSession(teamId, { prompt });
    const claim = await this.deps.registry.claim(scrapeId, teamId, terms);
    if (claim.outcome !== "claimed") throw this.refusal(claim, teamId);
    const id = claim.record.id;
    let resources;
    try {
      resources = await this.deps.factory.create(scrapeId, scrape.replayContext);
    } catch (err) {
      await this.deps.registry.release(id).catch(() => undefined);
      throw err;
    }
    const session = new LiveSession(id, scrapeId, teamId, newToken(), resources);
    try {
      if (!(await this.deps.registry.activate(id, session.cdpToken, session.startedAt))) {
        throw new Error(`the claim on session ${id} was lost`);
      }
    } catch (err) {
      await resources.release();
      await this.deps.registry.release(id).catch(() => undefined);
      throw err;
    }
    const tokens = this.deps.liveview?.register(session.id, resources.context) ?? {
      viewToken: newToken(),
      controlToken: newToken(),
    };
    const acquired: AcquiredSession = { session, ...tokens };
    this.live.set(scrapeId, acquired);
    this.byCdpToken.set(hashToken(session.cdpToken), session);
    this.deps.lifetimes.track(session);
    if (this.closed) await this.deps.lifetimes.end(session, "shutdown");
    return acquired;
  }

  /** Why a claim was refused, as the error the caller gets. */
  private refusal(claim: Exclude<SessionClaim, { outcome: "claimed" }>, teamId: string): AppError {
    switch (claim.outcome) {
      case "taken":
        return unusable(claim.record, this.deps.registry.nodeId);
      case "credits":
        return insufficientCredits(claim, "a browser session for its full TTL");
      case "limit": {
        const ttl = this.deps.config.sessionTtlMs;
        const here = [...this.live.values()]
          .map((a) => a.session)
          .filter((s) => s.teamId === teamId);
        const byTtl = Math.min(...claim.liveStartedAt.map((t) => t + ttl));
        return tooManySessions(claim.limit, Math.min(byTtl, this.freeSlotAt(here)));
      }
    }
  }

  /** The soonest one of these sessions ends by itself (TTL, or idling while nothing runs). */
  private freeSlotAt(sessions: LiveSession[]): number {
    const { sessionTtlMs, sessionIdleTtlMs } = this.deps.config;
    let soonest = Infinity;
    for (const s of sessions) {
      soonest = Math.min(soonest, s.startedAt + sessionTtlMs);
      if (s.busy === 0) soonest = Math.min(soonest, s.lastUsedAt + sessionIdleTtlMs);
    }
    return soonest;
  }

  private forget(s: LiveSession): void {
    this.endedHere.set(s.scrapeId, s.endedBy ?? "stopped");
    // Bounded: an end that never gets recorded (the database is down) is not kept for ever.
    if (this.endedHere.size > 10_000) this.endedHere.delete(this.endedHere.keys().next().value!);
    this.live.delete(s.scrapeId);
    this.byCdpToken.delete(hashToken(s.cdpToken));
    this.deps.liveview?.unregister(s.id);
  }

  /** Refuses new sessions and waits for those being made; the lifetimes end the rest. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.creating.values()]);
  }
}

/** 429, with when a slot should free up if that is known. */
function tooManySessions(limit: number, freeAt: number): AppError {
  const retryAfterSeconds = Number.isFinite(freeAt)
    ? Math.max(1, Math.ceil((freeAt - Date.now()) / 1000))
    : undefined;
  return new AppError(
    "TOO_MANY_SESSIONS",
    MESSAGES.tooManySessions,
    { limit, ...(retryAfterSeconds ? { retryAfterSeconds } : {}) },
    { retryAfterSeconds },
  );
}

/** 402 with what was needed and what the team has. */
function insufficientCredits(
  figures: { needed: number; available: number },
  purpose: string,
): AppError {
  return new AppError(
    "PAYMENT_REQUIRED",
    `${MESSAGES.insufficientSessionCredits}: ${purpose} needs ${figures.needed} credits and the team has ${figures.available}.`,
    { needed: figures.needed, available: figures.available },
  );
}

function checkTeam(owner: string, caller: string): void {
  if (owner !== caller) throw new AppError("FORBIDDEN", MESSAGES.forbidden);
}

/**
 * Why a scrape whose session row exists cannot get one here: 410 with the reason it ended, or
 * 503 when another node holds it.
 */
function unusable(record: SessionRecord, nodeId: string): AppError {
  if (record.status !== "destroyed" && record.nodeId !== nodeId) {
    return new AppError(
      "SESSION_ON_OTHER_NODE",
      `This scrape's session is served by another node (${record.nodeId}); send the request there.`,
    );
  }
  return destroyed(record.destroyReason ?? "stopped");
}

/** 410 with the reason the session ended (stopped, ttl, idle, browser_crashed, ...). */
function destroyed(reason: string): AppError {
  return new AppError("SESSION_DESTROYED", MESSAGES.sessionDestroyed, { reason });
}

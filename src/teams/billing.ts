import { AppError, MESSAGES } from "../errors/app-error.js";
import { endedFromRecord, type SessionEnded } from "../sessions/lifetimes.js";
import type { SessionTerms } from "../sessions/service.js";
import type { Balance, ClaimTerms, Store } from "../store/repositories.js";
import { RATES, sessionCredits } from "./rates.js";

export interface BillingDeps {
  store: Pick<Store, "teams" | "credits">;
  /** Whether credits are taken at all (authentication on); off, amounts are only reported. */
  enabled: boolean;
  sessionTtlMs: number;
  /** Concurrent sessions of a team without a limit of its own (TEAM_MAX_SESSIONS). */
  defaultMaxSessions: number;
  log: { warn(obj: object, msg: string): void };
  /** Told of credits taken: a scrape's, and each session's once. */
  onCharged?: (kind: "scrape" | "session", credits: number) => void;
}

/**
 * Credits: a scrape is paid before it runs, a session holds credits for its full TTL from the
 * moment it is claimed and is settled once when it ends, whatever ended it. Off (no
 * authentication) nothing is taken, and what would be billed is still reported.
 */
export class Billing implements SessionTerms {
  /**
   * Settlements under way, by session: a DELETE joins the one its session's end started, and a
   * shutdown lets them finish before the store closes.
   */
  private readonly settling = new Map<string, Promise<number>>();

  constructor(private readonly deps: BillingDeps) {}

  get enabled(): boolean {
    return this.deps.enabled;
  }

  /** The team's session limit and what a new session must hold. */
  async forNewSession(
    teamId: string,
    opts: { prompt: boolean; ttlMs: number },
  ): Promise<ClaimTerms | undefined> {
    if (!this.deps.enabled) return undefined;
    const team = await this.deps.store.teams.find(teamId);
    return {
      maxSessions: team?.maxSessions ?? this.deps.defaultMaxSessions,
      reserve: sessionCredits(opts.ttlMs, opts.prompt),
    };
  }

  /** Once a prompt runs, the session bills at the prompt rate: hold that for its full TTL. */
  async forPrompt(session: {
    id: string;
    teamId: string;
    shape: { ttlMs: number };
  }): Promise<{ ok: true } | { ok: false; needed: number; available: number }> {
    if (!this.deps.enabled) return { ok: true };
    return this.deps.store.credits.reserveUpTo({
      teamId: session.teamId,
      sessionId: session.id,
      total: sessionCredits(session.shape.ttlMs, true),
      note: `held for the session's full TTL at ${RATES.promptPerMinute} credits/min (a prompt ran)`,
      at: Date.now(),
    });
  }

  /** The team's credits, or undefined while nothing is charged. */
  async balance(teamId: string): Promise<Balance | undefined> {
    if (!this.deps.enabled) return undefined;
    return this.deps.store.credits.balance(teamId);
  }

  /**
   * Takes the most a scrape may cost before it runs (1 credit per started minute of its
   * timeout; scrape/price.ts); 402 when the team cannot.
   */
  async chargeScrape(
    teamId: string,
    scrapeId: string,
    hold: { credits: number; timeoutMs: number },
  ): Promise<void> {
    if (!this.deps.enabled) return;
    const res = await this.deps.store.credits.spend({
      teamId,
      amount: hold.credits,
      scrapeId,
      ref: `scrape:${scrapeId}`,
      note: hold.credits > 1 ? `scrape (held for a timeout of ${hold.timeoutMs} ms)` : "scrape",
      at: Date.now(),
    });
    if (!res.ok) {
      const needs =
        hold.credits > 1
          ? `a scrape with a timeout of ${hold.timeoutMs} ms holds ${hold.credits} credits (1 per started minute; what it does not use comes back)`
          : `a scrape needs ${hold.credits} credit`;
      throw new AppError(
        "PAYMENT_REQUIRED",
        `${MESSAGES.insufficientScrapeCredits}: ${needs} and the team has ${res.available}.`,
        { needed: hold.credits, available: res.available },
      );
    }
  }

  /**
   * Gives back what a scrape did not cost once it is over. A failed scrape always gets a ledger
   * entry, 0 when its price was kept, saying why: every charge then has an outcome on record.
   */
  async refundScrape(
    teamId: string,
    scrapeId: string,
    s: { refund: number; price: number; failed: boolean; note: string },
  ): Promise<void> {
    if (!this.deps.enabled) return;
    if (s.refund > 0 || s.failed) {
      await this.deps.store.credits.refund({
        teamId,
        amount: s.refund,
        scrapeId,
        ref: `scrape-refund:${scrapeId}`,
        note: s.note,
        at: Date.now(),
      });
    }
    if (s.price > 0) this.deps.onCharged?.("scrape", s.price);
  }

  /**
   * Settles an ended session and returns what it was billed. Safe to call more than once and
   * from several places at a time: the ledger takes the charge once.
   */
  settle(e: SessionEnded): Promise<number> {
    const charge = sessionCredits(Math.min(e.endedAt - e.startedAt, e.ttlMs), e.usedPrompt);
    if (!this.deps.enabled) return Promise.resolve(charge);
    const pending = this.settling.get(e.sessionId);
    if (pending) return pending;
    const run = this.deps.store.credits.settle({
      teamId: e.teamId,
      sessionId: e.sessionId,
      charge,
      at: Date.now(),
    });
    this.settling.set(e.sessionId, run);
    void run.then(
      () => this.settling.delete(e.sessionId),
      () => this.settling.delete(e.sessionId),
    );
    return run;
  }

  /** Settles sessions whose end was recorded but whose settling never happened (a crash). */
  async settleLeftovers(): Promise<number> {
    if (!this.deps.enabled) return 0;
    const left = await this.deps.store.credits.unsettled();
    for (const r of left) await this.settle(endedFromRecord(r, this.deps.sessionTtlMs));
    return left.length;
  }

  /** Settles every session as it ends; a failure is logged and settled at the next start. */
  listen(lifetimes: { onEnded(cb: (e: SessionEnded) => void): void }): void {
    lifetimes.onEnded((e) => {
      void this.settle(e).then(
        (credits) => {
          if (this.deps.enabled) this.deps.onCharged?.("session", credits);
        },
        (err: unknown) => {
          this.deps.log.warn(
            { err, sessionId: e.sessionId },
            "could not settle a session's credits",
          );
        },
      );
    });
  }

  /** Resolves once every settlement started so far has finished. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.settling.values()]);
  }
}

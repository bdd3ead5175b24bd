import { AppError, MESSAGES } from "../errors/app-error.js";
import { endedFromRecord, type SessionEnded } from "../sessions/lifetimes.js";
import type { SessionTerms } from "../sessions/service.js";
import type { Balance, ClaimTerms, Store } from "../store/repositories.js";
import type { WriteRetry } from "../store/write-retry.js";
import { RATES, sessionCredits } from "./rates.js";
import type { Logger } from "../log/logger.js";

/**
 * A scrape's charge still open this long after it was taken has no scrape left running to
 * close it: the longest scrape timeout (300 s) with room to spare.
 */
const SCRAPE_CHARGE_OPEN_MS = 10 * 60_000;
/** How often charges whose scrape died (on any node) are looked for. */
const RECONCILE_EVERY_MS = 60_000;
/** Open charges closed per look; the rest wait for the next. */
const RECONCILE_BATCH = 1_000;

export interface BillingDeps {
  store: Pick<Store, "teams" | "credits" | "sessions">;
  /** Whether credits are taken at all (authentication on); off, amounts are only reported. */
  enabled: boolean;
  sessionTtlMs: number;
  /** Concurrent sessions of a team without a limit of its own (TEAM_MAX_SESSIONS). */
  defaultMaxSessions: number;
  log: Pick<Logger, "warn">;
  /** Told of credits taken: a scrape's, and each session's once. */
  onCharged?: (kind: "scrape" | "session", credits: number) => void;
  /** This node's name: at its start, the scrapes it had charged are known to be dead. */
  nodeId: string;
  /** Where a settlement or refund the database could not take waits until it can. */
  retry: WriteRetry;
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
  private reconciler: NodeJS.Timeout | undefined;

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
   * timeout; scrape/price.ts), as the spending of the key that asked for it; 402 when the team
   * cannot.
   */
  async chargeScrape(
    teamId: string,
    scrapeId: string,
    hold: { credits: number; timeoutMs: number },
    apiKeyId: string | null = null,
  ): Promise<void> {
    if (!this.deps.enabled) return;
    let res;
    try {
      res = await this.deps.store.credits.spend({
        teamId,
        amount: hold.credits,
        scrapeId,
        nodeId: this.deps.nodeId,
        ref: `scrape:${scrapeId}`,
        note: hold.credits > 1 ? `scrape (held for a timeout of ${hold.timeoutMs} ms)` : "scrape",
        at: Date.now(),
        apiKeyId,
      });
    } catch (err) {
      // The charge may have been written before its answer was lost: if so, it goes back whole.
      void this.deps.retry.run(`scrape-refund:${scrapeId}`, () =>
        this.resolveScrape(scrapeId, "scrape failed: the database could not be reached"),
      );
      throw err;
    }
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
   * Gives back what a scrape did not cost once it is over (scrape/price.ts). A stored scrape's
   * charge was closed with its record, and what it did not use of its hold comes back; a failed
   * scrape's charge is closed here, with its refund (0 when its price was kept: the ledger then
   * says why). When the database cannot take it now, it is written as soon as it can. Never
   * fails.
   */
  async refundScrape(
    teamId: string,
    scrapeId: string,
    s: { refund: number; price: number; failed: boolean; note: string },
  ): Promise<void> {
    if (!this.deps.enabled) return;
    const ref = `scrape-refund:${scrapeId}`;
    if (s.failed) {
      await this.deps.retry.run(ref, () => this.resolveScrape(scrapeId, s.note, s.refund));
    } else if (s.refund > 0) {
      await this.deps.retry.run(ref, () =>
        this.deps.store.credits.refund({
          teamId,
          amount: s.refund,
          scrapeId,
          ref,
          note: s.note,
          at: Date.now(),
        }),
      );
    }
    if (s.price > 0) this.deps.onCharged?.("scrape", s.price);
  }

  /**
   * Closes the charges of scrapes that died without an outcome: at start every one this node
   * had open (nothing of its earlier run is still running), and then, every minute, any
   * node's left open past the longest a scrape can take. They are refunded whole: the scrape's
   * end is unknown, and the server's.
   */
  async reconcileScrapes(opts: { atStart: boolean }): Promise<number> {
    if (!this.deps.enabled) return 0;
    const open = await this.deps.store.credits.openScrapeCharges({
      nodeId: opts.atStart ? this.deps.nodeId : undefined,
      before: Date.now() - SCRAPE_CHARGE_OPEN_MS,
      limit: RECONCILE_BATCH,
    });
    for (const scrapeId of open) {
      await this.resolveScrape(scrapeId, "scrape ended with no outcome recorded (refunded)");
    }
    return open.length;
  }

  /** Looks for scrape charges left open by dead scrapes every minute, until close(). */
  startReconciling(): void {
    if (!this.deps.enabled || this.reconciler) return;
    this.reconciler = setInterval(() => {
      this.reconcileScrapes({ atStart: false }).catch((err: unknown) => {
        this.deps.log.warn({ err }, "could not look for scrape charges left open");
      });
    }, RECONCILE_EVERY_MS);
    this.reconciler.unref();
  }

  /** Closes a scrape's open charge: kept if it was stored, else `amount` (or all) given back. */
  private async resolveScrape(scrapeId: string, note: string, amount?: number): Promise<void> {
    await this.deps.store.credits.resolveScrapeCharge({
      scrapeId,
      ref: `scrape-refund:${scrapeId}`,
      note,
      amount,
      at: Date.now(),
    });
  }

  /**
   * Settles an ended session and returns what it was billed. Safe to call more than once and
   * from several places at a time: the ledger takes the charge once.
   */
  settle(e: SessionEnded): Promise<number> {
    const charge = this.priceOf(e);
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

  /** What an ended session costs: its life, never past its TTL, at its rate. */
  priceOf(e: SessionEnded): number {
    return sessionCredits(Math.min(e.endedAt - e.startedAt, e.ttlMs), e.usedPrompt);
  }

  /**
   * What a stopped session is billed, for its DELETE: settled now when its end is recorded;
   * while the database cannot take the end (or the settlement), what its settlement will take
   * once it can, which is the same figure.
   */
  async billed(e: SessionEnded, recorded: boolean): Promise<number> {
    if (!recorded) return this.priceOf(e);
    try {
      return await this.settle(e);
    } catch {
      // The settlement the end started waits for the database (listen()); this is its figure.
      return this.priceOf(e);
    }
  }

  /** Settles sessions whose end was recorded but whose settling never happened (a crash). */
  async settleLeftovers(): Promise<number> {
    if (!this.deps.enabled) return 0;
    const left = await this.deps.store.credits.unsettled();
    for (const r of left) await this.settle(endedFromRecord(r, this.deps.sessionTtlMs));
    return left.length;
  }

  /**
   * Settles every session as it ends; one the database cannot take now is settled as soon as
   * it can (or, should the server stop first, at the next start). What it was billed is kept
   * on its record (the settlement writes it); without authentication, what it would have cost.
   */
  listen(lifetimes: { onEnded(cb: (e: SessionEnded) => unknown): void }): void {
    lifetimes.onEnded((e) =>
      this.deps.retry.run(`session-settle:${e.sessionId}`, async () => {
        const credits = await this.settle(e);
        if (this.deps.enabled) this.deps.onCharged?.("session", credits);
        else await this.deps.store.sessions.markBilled(e.sessionId, credits);
      }),
    );
  }

  /** Resolves once every settlement started so far has finished. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.settling.values()]);
  }

  /** Stops looking for open scrape charges. */
  close(): void {
    clearInterval(this.reconciler);
  }
}

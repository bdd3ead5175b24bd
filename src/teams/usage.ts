import { AppError } from "../errors/app-error.js";
import type { Store } from "../store/repositories.js";
import {
  monthBounds,
  monthPeriods,
  rangeBounds,
  rangePeriods,
  TIME_RANGES,
  type TimeRange,
  type UsagePeriod,
  type UsageWindow,
} from "./usage-periods.js";

/** Reported as the balance while nothing is charged (no authentication), as a number SDKs expect. */
export const UNMETERED = 99_999_999;
/** What a period says of usage no key is known for: none was asked for, or it is gone. */
export const UNKNOWN_KEY = "Unknown";

export interface UsageDeps {
  store: Pick<Store, "teams" | "keys" | "credits" | "sessions" | "scrapes">;
  /** Authentication on: teams have their own limits, and credits are taken. */
  metered: boolean;
  /** A team's session limit when it has none of its own (TEAM_MAX_SESSIONS). */
  defaultMaxSessions: number;
  /** The limit while authentication is off: the server's own (MAX_BROWSER_SESSIONS). */
  serverMaxSessions: number;
  /** This node's scrapes of a team: holding a slot, and waiting for one. */
  scrapes: { runningOf(teamId: string): number; waitingOf(teamId: string): number };
}

/** A team's credits as the usage routes report them. */
export interface CreditSummary {
  /** What it may spend now (what live sessions hold is already taken out). */
  remaining: number;
  /** Held by live sessions; undefined while nothing is metered. */
  reserved?: number;
  /** Credits granted to the team, all told (there are no plans here). */
  plan: number;
  metered: boolean;
}

/** The historical usage asked for: by key, or a rolling window. */
export interface HistoryQuery {
  byApiKey: boolean;
  timeRange?: TimeRange;
}

/**
 * Reads `/v2/team/credit-usage/historical`'s query as Firecrawl does: `byApiKey` counts only as
 * the string "true"; `timeRange` is one of day, week or month, and not with `byApiKey`. A 400
 * in Firecrawl's words otherwise.
 */
export function historyQuery(q: { byApiKey?: string; timeRange?: string }): HistoryQuery {
  const byApiKey = q.byApiKey === "true";
  const range = q.timeRange;
  if (range === undefined) return { byApiKey };
  const refuse = (path: string, message: string) =>
    new AppError("BAD_REQUEST", message, [{ path, message }]);
  if (!(TIME_RANGES as readonly string[]).includes(range)) {
    throw refuse("timeRange", "timeRange must be day, week, or month.");
  }
  if (byApiKey) throw refuse("byApiKey", "byApiKey cannot be combined with timeRange.");
  return { byApiKey, timeRange: range as TimeRange };
}

/**
 * What a team is using and has used: its sessions and scrapes now against its limit, its
 * scrapes waiting for a slot, its credits, and its credits used over time from the ledger, in
 * total or by API key.
 */
export class TeamUsage {
  constructor(private readonly deps: UsageDeps) {}

  /** The team's concurrent session limit: its own or the server's default; off, the server's. */
  async maxConcurrency(teamId: string): Promise<number> {
    if (!this.deps.metered) return this.deps.serverMaxSessions;
    const team = await this.deps.store.teams.find(teamId);
    return team?.maxSessions ?? this.deps.defaultMaxSessions;
  }

  /**
   * What the team runs now: its live sessions on every node, and its scrapes holding a slot on
   * this one; and its scrapes here waiting for a slot.
   */
  async activity(teamId: string): Promise<{ active: number; waiting: number }> {
    const live = await this.deps.store.sessions.liveOfTeam(teamId);
    return {
      active: live.length + this.deps.scrapes.runningOf(teamId),
      waiting: this.deps.scrapes.waitingOf(teamId),
    };
  }

  /** When the team's newest scrape succeeded (its record was stored), or null. */
  async mostRecentSuccess(teamId: string): Promise<string | null> {
    const at = await this.deps.store.scrapes.latestOfTeam(teamId);
    return at === undefined ? null : new Date(at).toISOString();
  }

  /** The team's credits; unmetered figures while authentication is off. */
  async credits(teamId: string): Promise<CreditSummary> {
    if (!this.deps.metered) return { remaining: UNMETERED, plan: UNMETERED, metered: false };
    const [balance, plan] = await Promise.all([
      this.deps.store.credits.balance(teamId),
      this.deps.store.credits.granted(teamId),
    ]);
    return { remaining: balance.available, reserved: balance.reserved, plan, metered: true };
  }

  /**
   * Credits the team used, from the ledger: per calendar month (UTC) over the last 90 days, by
   * API key if asked; or over a rolling window in hours or days. Empty while nothing is metered.
   */
  async history(
    teamId: string,
    q: HistoryQuery,
    now = Date.now(),
  ): Promise<{ periods: UsagePeriod[]; window?: UsageWindow }> {
    if (q.timeRange) {
      const { window, bounds } = rangeBounds(q.timeRange, now);
      const rows = await this.deps.store.credits.usage({ teamId, bounds, byKey: false });
      return { window, periods: rangePeriods(bounds, rows) };
    }
    const bounds = monthBounds(now);
    const rows = await this.deps.store.credits.usage({ teamId, bounds, byKey: q.byApiKey });
    if (!q.byApiKey) return { periods: monthPeriods(bounds, rows) };
    const names = await this.keyNames(teamId);
    const keyName = (id: string | null) => (id === null ? undefined : names.get(id));
    return { periods: monthPeriods(bounds, rows, (id) => keyName(id) ?? UNKNOWN_KEY) };
  }

  /** The team's keys (revoked ones too) by id, as people know them: a name, or the prefix. */
  private async keyNames(teamId: string): Promise<Map<string, string>> {
    const keys = await this.deps.store.keys.list(teamId);
    return new Map(keys.map((k) => [k.id, k.name ?? `${k.prefix}…`]));
  }
}

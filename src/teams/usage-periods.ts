import type { UsageRow } from "../store/repositories.js";

/** Firecrawl's rate for its token figures: a credit is 15 tokens. */
export const TOKENS_PER_CREDIT = 15;
/** How far back the historical usage reaches, from the start of that UTC day. */
export const HISTORY_DAYS = 90;

export const TIME_RANGES = ["day", "week", "month"] as const;
/** A rolling window of usage: the last day in hours, or the last 7 or 30 days in days. */
export type TimeRange = (typeof TIME_RANGES)[number];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** One period of the historical usage, in Firecrawl's shape. */
export interface UsagePeriod {
  startDate: string;
  /** Null for the month still running. */
  endDate: string | null;
  /** The key's name (or prefix), "Unknown" for none; only when asked by key. */
  apiKey?: string;
  creditsUsed: number;
}

/** The window of a `timeRange` answer. */
export interface UsageWindow {
  timeRange: TimeRange;
  binSize: "hour" | "day";
  startDate: string;
  endDate: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function nextMonth(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/**
 * Bin edges for the historical usage: from the start of the UTC day 90 days before `now`, one
 * bin per calendar month (UTC), the last one the month of `now`, to that month's end.
 */
export function monthBounds(now: number): number[] {
  const from = Math.floor((now - HISTORY_DAYS * DAY_MS) / DAY_MS) * DAY_MS;
  const bounds = [from];
  for (let edge = nextMonth(from); edge <= nextMonth(now); edge = nextMonth(edge)) {
    bounds.push(edge);
  }
  return bounds;
}

/**
 * The store's rows as monthly periods, oldest first: every month of the window (zeros too) once
 * the team has any charge in it, none otherwise; with `keyName`, one period per key name and
 * month the key spent in (keys of one name together), names in order within a month.
 */
export function monthPeriods(
  bounds: readonly number[],
  rows: readonly UsageRow[],
  keyName?: (apiKeyId: string | null) => string,
): UsagePeriod[] {
  if (rows.length === 0) return [];
  const last = bounds.length - 2;
  const dates = (bin: number) => ({
    startDate: iso(monthStart(bounds[bin]!)),
    endDate: bin === last ? null : iso(bounds[bin + 1]!),
  });
  if (!keyName) {
    const sums = new Array<number>(last + 1).fill(0);
    for (const r of rows) sums[r.bin]! += r.credits;
    return sums.map((creditsUsed, bin) => ({ ...dates(bin), creditsUsed }));
  }
  const byMonth = new Map<number, Map<string, number>>();
  for (const r of rows) {
    const names = byMonth.get(r.bin) ?? new Map<string, number>();
    const name = keyName(r.apiKeyId);
    names.set(name, (names.get(name) ?? 0) + r.credits);
    byMonth.set(r.bin, names);
  }
  return [...byMonth.keys()]
    .sort((a, b) => a - b)
    .flatMap((bin) =>
      [...byMonth.get(bin)!]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([apiKey, creditsUsed]) => ({ ...dates(bin), apiKey, creditsUsed })),
    );
}

/**
 * A rolling window ending at `now` (the last day, 7 or 30 days) and its bins' edges: hours for
 * a day, days otherwise, on whole UTC hours or days, the first and last cut at the window's ends.
 */
export function rangeBounds(
  range: TimeRange,
  now: number,
): { window: UsageWindow; bounds: number[] } {
  const days = { day: 1, week: 7, month: 30 }[range];
  const binSize = range === "day" ? "hour" : "day";
  const binMs = binSize === "hour" ? HOUR_MS : DAY_MS;
  const start = now - days * DAY_MS;
  const bounds = [start];
  for (let edge = Math.floor(start / binMs) * binMs + binMs; edge < now; edge += binMs) {
    bounds.push(edge);
  }
  bounds.push(now);
  return {
    window: { timeRange: range, binSize, startDate: iso(start), endDate: iso(now) },
    bounds,
  };
}

/** Every bin of a rolling window, zeros too, once the team has any charge in it; none otherwise. */
export function rangePeriods(
  bounds: readonly number[],
  rows: readonly UsageRow[],
): { startDate: string; endDate: string; creditsUsed: number }[] {
  if (rows.length === 0) return [];
  const sums = new Array<number>(bounds.length - 1).fill(0);
  for (const r of rows) sums[r.bin]! += r.credits;
  return sums.map((creditsUsed, bin) => ({
    startDate: iso(bounds[bin]!),
    endDate: iso(bounds[bin + 1]!),
    creditsUsed,
  }));
}

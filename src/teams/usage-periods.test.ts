import { describe, expect, test } from "vitest";
import { historyQuery } from "./usage.js";
import { monthBounds, monthPeriods, rangeBounds, rangePeriods } from "./usage-periods.js";

const at = (iso: string) => Date.parse(iso);

describe("monthly periods", () => {
  const now = at("2026-05-15T12:00:00.000Z");
  const bounds = monthBounds(now);

  test("reach 90 days back from the start of that day, one bin per calendar month", () => {
    expect(bounds.map((b) => new Date(b).toISOString())).toEqual([
      "2026-02-14T00:00:00.000Z",
      "2026-03-01T00:00:00.000Z",
      "2026-04-01T00:00:00.000Z",
      "2026-05-01T00:00:00.000Z",
      "2026-06-01T00:00:00.000Z",
    ]);
  });

  test("list every month once anything was charged, the running one open-ended", () => {
    expect(monthPeriods(bounds, [])).toEqual([]);
    expect(monthPeriods(bounds, [{ bin: 3, apiKeyId: null, credits: 5 }])).toEqual([
      {
        startDate: "2026-02-01T00:00:00.000Z",
        endDate: "2026-03-01T00:00:00.000Z",
        creditsUsed: 0,
      },
      {
        startDate: "2026-03-01T00:00:00.000Z",
        endDate: "2026-04-01T00:00:00.000Z",
        creditsUsed: 0,
      },
      {
        startDate: "2026-04-01T00:00:00.000Z",
        endDate: "2026-05-01T00:00:00.000Z",
        creditsUsed: 0,
      },
      { startDate: "2026-05-01T00:00:00.000Z", endDate: null, creditsUsed: 5 },
    ]);
  });

  test("by key: one period per name and month it spent in, names together and in order", () => {
    const names: Record<string, string> = { k1: "ci", k2: "ci", k3: "backend" };
    const rows = [
      { bin: 3, apiKeyId: "k1", credits: 2 },
      { bin: 1, apiKeyId: "k3", credits: 1 },
      { bin: 3, apiKeyId: "k2", credits: 3 },
      { bin: 3, apiKeyId: "k3", credits: 4 },
      { bin: 3, apiKeyId: null, credits: 1 },
    ];
    const periods = monthPeriods(bounds, rows, (id) => (id && names[id]) ?? "Unknown");
    expect(
      periods.map((p) => [p.startDate.slice(0, 7), p.endDate, p.apiKey, p.creditsUsed]),
    ).toEqual([
      ["2026-03", "2026-04-01T00:00:00.000Z", "backend", 1],
      ["2026-05", null, "backend", 4],
      ["2026-05", null, "ci", 5],
      ["2026-05", null, "Unknown", 1],
    ]);
  });
});

describe("rolling windows", () => {
  test("a day is 24 hours of hourly bins on whole hours, cut at the window's ends", () => {
    const { window, bounds } = rangeBounds("day", at("2026-05-15T12:30:00.000Z"));
    expect(window).toEqual({
      timeRange: "day",
      binSize: "hour",
      startDate: "2026-05-14T12:30:00.000Z",
      endDate: "2026-05-15T12:30:00.000Z",
    });
    expect(bounds).toHaveLength(26);
    expect(new Date(bounds[1]!).toISOString()).toBe("2026-05-14T13:00:00.000Z");
    expect(new Date(bounds[24]!).toISOString()).toBe("2026-05-15T12:00:00.000Z");
    // On a whole hour, no bin is cut.
    expect(rangeBounds("day", at("2026-05-15T12:00:00.000Z")).bounds).toHaveLength(25);
  });

  test("a week and a month are days", () => {
    const now = at("2026-05-15T12:30:00.000Z");
    const week = rangeBounds("week", now);
    expect(week.window.binSize).toBe("day");
    expect(week.bounds).toHaveLength(9);
    expect(new Date(week.bounds[1]!).toISOString()).toBe("2026-05-09T00:00:00.000Z");
    expect(rangeBounds("month", now).bounds).toHaveLength(32);
  });

  test("every bin is listed, zeros too, once anything was charged", () => {
    const bounds = [0, 10, 20, 25];
    expect(rangePeriods(bounds, [])).toEqual([]);
    expect(rangePeriods(bounds, [{ bin: 1, apiKeyId: null, credits: 2 }])).toEqual([
      {
        startDate: "1970-01-01T00:00:00.000Z",
        endDate: "1970-01-01T00:00:00.010Z",
        creditsUsed: 0,
      },
      {
        startDate: "1970-01-01T00:00:00.010Z",
        endDate: "1970-01-01T00:00:00.020Z",
        creditsUsed: 2,
      },
      {
        startDate: "1970-01-01T00:00:00.020Z",
        endDate: "1970-01-01T00:00:00.025Z",
        creditsUsed: 0,
      },
    ]);
  });
});

describe("the historical query, read as Firecrawl reads it", () => {
  test("byApiKey counts only as the string true", () => {
    expect(historyQuery({})).toEqual({ byApiKey: false });
    expect(historyQuery({ byApiKey: "true" })).toEqual({ byApiKey: true });
    expect(historyQuery({ byApiKey: "1" })).toEqual({ byApiKey: false });
    expect(historyQuery({ timeRange: "week", byApiKey: "yes" })).toEqual({
      byApiKey: false,
      timeRange: "week",
    });
  });

  test("a bad timeRange, or one with byApiKey, is a 400 in Firecrawl's words", () => {
    expect(() => historyQuery({ timeRange: "year" })).toThrow(
      expect.objectContaining({
        code: "BAD_REQUEST",
        message: "timeRange must be day, week, or month.",
      }),
    );
    expect(() => historyQuery({ timeRange: "day", byApiKey: "true" })).toThrow(
      expect.objectContaining({
        code: "BAD_REQUEST",
        message: "byApiKey cannot be combined with timeRange.",
      }),
    );
  });
});

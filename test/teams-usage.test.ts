import Firecrawl from "@mendable/firecrawl-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { closeAll, startTestServer, type TestServer } from "./helpers/server.js";
import { makeTeam } from "./helpers/team-client.js";

let site: FixtureSite;
beforeAll(async () => {
  site = await startFixtureSite();
});
afterAll(() => closeAll(site));

/** The SDK pointed at `server` as one key (or none). */
const sdk = (server: TestServer, apiKey?: string) => new Firecrawl({ apiUrl: server.url, apiKey });

/** GET with a key, for what the SDK does not send (a timeRange, a bad query). */
async function get(server: TestServer, key: string, path: string) {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as any };
}

describe("with authentication on", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      USE_DB_AUTHENTICATION: "true",
      ALLOW_PRIVATE_NETWORK: "true",
      // One scrape at a time: a second one waits for the slot.
      MAX_CONCURRENT_SCRAPES: "1",
    });
  });
  afterAll(() => closeAll(server));

  test("two keys of one team: live sessions count toward concurrency, and each key's spending is its own", async () => {
    const team = await makeTeam(server, "usage-keys", 100);
    await server.services.teams.setMaxSessions(team.id, 3);
    const ci = await server.services.teams.createKey(team.id, "ci");
    const plain = await server.services.teams.createKey(team.id);
    const other = await makeTeam(server, "usage-other", 100);
    const [byCi, byPlain, byOther] = [
      sdk(server, ci.key),
      sdk(server, plain.key),
      sdk(server, other.key),
    ];

    const doc = await byCi.scrape(`${site.url}/`, { formats: ["markdown"] });
    const scrapeId = doc.metadata!.scrapeId!;
    expect((await byCi.interact(scrapeId, { code: "1" })).success).toBe(true);
    const browser = await byPlain.browser({ ttl: 60 });
    expect(browser.success).toBe(true);

    // Both sessions are the team's, whichever key opened them; another team sees none of them.
    expect(await byCi.getConcurrency()).toEqual({ concurrency: 2, maxConcurrency: 3 });
    expect(await byPlain.getConcurrency()).toEqual({ concurrency: 2, maxConcurrency: 3 });
    expect(await byOther.getConcurrency()).toEqual({ concurrency: 0, maxConcurrency: 5 });

    // A minute's minimum at 2 credits a minute, each.
    expect((await byCi.stopInteraction(scrapeId)).creditsBilled).toBe(2);
    expect((await byPlain.deleteBrowser(browser.id!)).creditsBilled).toBe(2);
    expect(await byCi.getConcurrency()).toEqual({ concurrency: 0, maxConcurrency: 3 });

    // ci: the scrape and the interact session; the unnamed key: the browser session. (Summed
    // over the months listed: a month may have turned while the test ran.)
    const perKey = (periods: { apiKey?: string; creditsUsed?: number; tokensUsed?: number }[]) => {
      const sums: Record<string, number> = {};
      for (const p of periods)
        sums[p.apiKey!] = (sums[p.apiKey!] ?? 0) + (p.creditsUsed ?? p.tokensUsed)!;
      return sums;
    };
    const byKey = await byPlain.getCreditUsageHistorical(true);
    expect(byKey.success).toBe(true);
    expect(perKey(byKey.periods)).toEqual({ ci: 3, [`${plain.record.prefix}…`]: 2 });
    for (const p of byKey.periods) expect(p.startDate).toMatch(/^\d{4}-\d{2}-01T00:00:00\.000Z$/);

    // Together: every month of the last 90 days, in order, the running one open-ended.
    const total = await byCi.getCreditUsageHistorical();
    expect(total.periods.length).toBeGreaterThanOrEqual(3);
    expect(total.periods.reduce((sum, p) => sum + p.creditsUsed, 0)).toBe(5);
    expect(total.periods.at(-1)!.endDate).toBeNull();
    total.periods
      .slice(0, -1)
      .forEach((p, i) => expect(p.endDate).toBe(total.periods[i + 1]!.startDate));
    expect(total.periods.every((p) => !("apiKey" in p))).toBe(true);

    const tokens = await byCi.getTokenUsageHistorical(true);
    expect(perKey(tokens.periods)).toEqual({ ci: 45, [`${plain.record.prefix}…`]: 30 });
    const allTokens = (await byCi.getTokenUsageHistorical()).periods;
    expect(allTokens.reduce((sum, p) => sum + p.tokensUsed, 0)).toBe(75);

    // A rolling week, by day: every bin of it, zeros too.
    const week = await get(server, ci.key, "/v2/team/credit-usage/historical?timeRange=week");
    expect(week.status).toBe(200);
    const { window, periods } = week.body;
    expect(window).toMatchObject({ timeRange: "week", binSize: "day" });
    expect(Date.parse(window.endDate) - Date.parse(window.startDate)).toBe(7 * 86_400_000);
    // Whole UTC days, the first and last cut at the window's ends.
    expect(periods).toHaveLength(Date.parse(window.endDate) % 86_400_000 ? 8 : 7);
    expect(periods[0].startDate).toBe(window.startDate);
    expect(periods.at(-1).endDate).toBe(window.endDate);
    expect(periods.reduce((sum: number, p: any) => sum + p.creditsUsed, 0)).toBe(5);

    // Another team's usage is never in this one's answer.
    expect(await byOther.getCreditUsageHistorical(true)).toEqual({ success: true, periods: [] });
    expect((await byOther.getTokenUsageHistorical()).periods).toEqual([]);
  });

  test("credit and token usage: what the team holds, what it was granted, no billing period", async () => {
    const team = await makeTeam(server, "usage-balance", 40);
    await server.services.teams.grant(team.id, 20, "top-up");
    const fc = sdk(server, team.key);
    await fc.scrape(`${site.url}/`, { formats: ["markdown"] });
    expect(await fc.getCreditUsage()).toEqual({
      remainingCredits: 59,
      planCredits: 60,
      billingPeriodStart: null,
      billingPeriodEnd: null,
    });
    expect(await fc.getTokenUsage()).toEqual({
      remainingTokens: 59 * 15,
      planTokens: 60 * 15,
      billingPeriodStart: null,
      billingPeriodEnd: null,
    });
    // What the SDK leaves out is still answered.
    const raw = await get(server, team.key, "/v2/team/credit-usage");
    expect(raw.body.data).toMatchObject({ reservedCredits: 0, metered: true });
  });

  test("getQueueStatus: a scrape waiting for a slot is waiting, the one holding it active", async () => {
    const team = await makeTeam(server, "usage-queue", 100);
    const other = await makeTeam(server, "usage-queue-other", 100);
    const fc = sdk(server, team.key);
    const slots = server.services.scrapes.slots;
    expect(await fc.getQueueStatus()).toEqual({
      success: true,
      jobsInQueue: 0,
      activeJobsInQueue: 0,
      waitingJobsInQueue: 0,
      maxConcurrency: 5,
      mostRecentSuccess: null,
    });

    // A page that answers only after a minute holds the one slot until its client leaves.
    const leave = new AbortController();
    const holding = fetch(`${server.url}/v2/scrape`, {
      method: "POST",
      headers: { authorization: `Bearer ${team.key}`, "content-type": "application/json" },
      body: JSON.stringify({ url: `${site.url}/slow?ms=60000`, timeout: 60_000 }),
      signal: leave.signal,
    }).catch(() => undefined);
    await expect.poll(() => slots.runningOf(team.id), { timeout: 20_000 }).toBe(1);
    const waiting = fc.scrape(`${site.url}/about`, { formats: ["markdown"] });
    await expect.poll(() => slots.waitingOf(team.id), { timeout: 20_000 }).toBe(1);

    expect(await fc.getQueueStatus()).toEqual({
      success: true,
      jobsInQueue: 2,
      activeJobsInQueue: 1,
      waitingJobsInQueue: 1,
      maxConcurrency: 5,
      mostRecentSuccess: null,
    });
    expect(await sdk(server, other.key).getQueueStatus()).toMatchObject({
      jobsInQueue: 0,
      activeJobsInQueue: 0,
      waitingJobsInQueue: 0,
    });
    expect(await fc.getConcurrency()).toEqual({ concurrency: 1, maxConcurrency: 5 });

    leave.abort();
    await holding;
    const doc = await waiting;
    const record = await server.services.store.scrapes.get(doc.metadata!.scrapeId!);
    const status = await fc.getQueueStatus();
    expect(status).toMatchObject({ jobsInQueue: 0, activeJobsInQueue: 0, waitingJobsInQueue: 0 });
    expect(status.mostRecentSuccess).toBe(new Date(record!.createdAt).toISOString());
    expect((await sdk(server, other.key).getQueueStatus()).mostRecentSuccess).toBeNull();
  });

  test("spending whose key is unknown shows as Unknown", async () => {
    const team = await makeTeam(server, "usage-unknown", 10);
    await server.services.store.credits.spend({
      teamId: team.id,
      amount: 2,
      scrapeId: "no-such-scrape",
      nodeId: "elsewhere",
      ref: "scrape:no-such-scrape",
      note: "scrape",
      at: Date.now(),
      apiKeyId: "key_000000000000",
    });
    const periods = (await sdk(server, team.key).getCreditUsageHistorical(true)).periods;
    expect(periods.map(({ apiKey, creditsUsed }) => ({ apiKey, creditsUsed }))).toEqual([
      { apiKey: "Unknown", creditsUsed: 2 },
    ]);
  });

  test("a bad query is a 400 in Firecrawl's words; no key is a 401", async () => {
    const team = await makeTeam(server, "usage-query", 0);
    const path = "/v2/team/credit-usage/historical";
    const bad = await get(server, team.key, `${path}?timeRange=year`);
    expect(bad).toEqual({
      status: 400,
      body: {
        success: false,
        code: "BAD_REQUEST",
        error: "timeRange must be day, week, or month.",
        details: [{ path: "timeRange", message: "timeRange must be day, week, or month." }],
      },
    });
    const both = await get(server, team.key, `${path}?timeRange=day&byApiKey=true`);
    expect(both.status).toBe(400);
    expect(both.body.error).toBe("byApiKey cannot be combined with timeRange.");
    // Nothing used yet: the window, with no periods.
    const day = await get(server, team.key, `${path}?timeRange=day`);
    expect(day.body).toMatchObject({ success: true, window: { binSize: "hour" }, periods: [] });
    // byApiKey counts only as "true".
    expect((await get(server, team.key, `${path}?byApiKey=1`)).body).toEqual({
      success: true,
      periods: [],
    });
    for (const route of [
      "/v2/concurrency-check",
      "/v2/team/queue-status",
      path,
      "/v2/team/token-usage",
      "/v2/team/token-usage/historical",
    ]) {
      const res = await fetch(`${server.url}${route}`);
      expect(res.status, route).toBe(401);
    }
    await expect(sdk(server).getConcurrency()).rejects.toMatchObject({ status: 401 });
  });
});

test("with authentication off: the self-hosted team against the server's limit, nothing metered", async () => {
  const server = await startTestServer({
    ALLOW_PRIVATE_NETWORK: "true",
    MAX_BROWSER_SESSIONS: "7",
  });
  try {
    const fc = sdk(server);
    expect(await fc.getConcurrency()).toEqual({ concurrency: 0, maxConcurrency: 7 });
    expect((await fc.getQueueStatus()).mostRecentSuccess).toBeNull();
    const doc = await fc.scrape(`${site.url}/`, { formats: ["markdown"] });
    const record = await server.services.store.scrapes.get(doc.metadata!.scrapeId!);
    expect(await fc.getQueueStatus()).toEqual({
      success: true,
      jobsInQueue: 0,
      activeJobsInQueue: 0,
      waitingJobsInQueue: 0,
      maxConcurrency: 7,
      mostRecentSuccess: new Date(record!.createdAt).toISOString(),
    });
    expect(await fc.getCreditUsage()).toEqual({
      remainingCredits: 99_999_999,
      planCredits: 99_999_999,
      billingPeriodStart: null,
      billingPeriodEnd: null,
    });
    expect((await fc.getTokenUsage()).remainingTokens).toBe(99_999_999 * 15);
    expect(await fc.getCreditUsageHistorical(true)).toEqual({ success: true, periods: [] });
    expect(await fc.getTokenUsageHistorical()).toEqual({ success: true, periods: [] });
  } finally {
    await server.close();
  }
});

import { afterAll, beforeAll, expect, test } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { startMain, type MainProcess } from "./helpers/main-process.js";
import { closeAll, postJson, startTestServer, type TestServer } from "./helpers/server.js";
import { makeTeam, teamClient } from "./helpers/team-client.js";

// A page that is expensive to convert must not stop the server answering everyone else, and a
// page past the size bound gets a clear answer instead of the server's memory.

let site: FixtureSite;
beforeAll(async () => {
  site = await startFixtureSite();
});
afterAll(() => closeAll(site));

/**
 * Sends GET /health/live every 100 ms, each request on its own, without waiting for the last
 * one; counts what was sent and the most requests waiting for an answer at one moment. A server
 * whose event loop is blocked answers none, so they pile up.
 */
function pollLiveness(url: string) {
  let sent = 0;
  let waiting = 0;
  let mostWaiting = 0;
  const failures: string[] = [];
  const pending = new Set<Promise<void>>();
  const timer = setInterval(() => {
    sent++;
    waiting++;
    mostWaiting = Math.max(mostWaiting, waiting);
    const p = fetch(`${url}/health/live`)
      .then(async (res) => {
        await res.arrayBuffer();
        if (res.status !== 200) failures.push(String(res.status));
      })
      .catch((err: unknown) => void failures.push(String(err)))
      .finally(() => {
        waiting--;
        pending.delete(p);
      });
    pending.add(p);
  }, 100);
  return {
    /** Stops sending; waits for the answers still due. */
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
      return { sent, mostWaiting, failures };
    },
  };
}

test("a page of 300,000 elements converts while /health/live keeps answering, under tsx src/main.ts", async () => {
  const server: MainProcess = await startMain({ LOG_LEVEL: "warn" });
  try {
    const poll = pollLiveness(server.url);
    const res = await postJson(`${server.url}/v2/scrape`, {
      url: `${site.url}/many-elements?n=300000`,
      timeout: 300_000,
    });
    const seen = await poll.stop();
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(200);
    const md: string = res.body.data.markdown;
    expect(md).toContain("Item number 0\n");
    expect(md).toContain("Item number 150000\n");
    expect(md).toContain("Item number 299999\n");
    expect(md.trimEnd().endsWith("The last element")).toBe(true);
    expect(res.body.data.metadata.title).toBe("Many elements");
    expect(seen.failures).toEqual([]);
    // Polls, not milliseconds: a blocked event loop leaves every poll sent meanwhile waiting,
    // so the longest silence shows as that many at once. Any server pauses now and then (a
    // collection, a busy machine); none may go quiet for a tenth of the whole scrape.
    expect(
      seen.mostWaiting,
      `${seen.mostWaiting} liveness requests waited at once, of ${seen.sent} sent`,
    ).toBeLessThanOrEqual(Math.max(3, Math.floor(seen.sent / 10)));
  } finally {
    await server.stop();
  }
}, 300_000);

test("a page past SCRAPE_MAX_PAGE_MB is a 422 naming the limit, paid like any page its tenant chose", async () => {
  let server: TestServer | undefined;
  try {
    server = await startTestServer({
      SCRAPE_MAX_PAGE_MB: "1",
      USE_DB_AUTHENTICATION: "true",
      ALLOW_PRIVATE_NETWORK: "true",
    });
    const team = await makeTeam(server, "heavy-page", 4);
    const client = teamClient(server, team.key);
    const res = await client.scrape(`${site.url}/many-elements?n=60000`); // about 1.7 MB
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ success: false, code: "SCRAPE_PAGE_TOO_LARGE" });
    expect(res.body.error).toMatch(/\b1 MB\b/);
    expect(res.body.error).toContain("SCRAPE_MAX_PAGE_MB");
    // A page that replaces the built-ins a count in its own world would use gets the same.
    const tampered = await client.scrape(`${site.url}/many-elements?n=60000&tamper`);
    expect(tampered.status).toBe(422);
    expect(tampered.body.code).toBe("SCRAPE_PAGE_TOO_LARGE");
    // The page was the tenant's choice and held a slot: each of the two cost its credit.
    expect((await server.services.store.credits.balance(team.id)).available).toBe(2);
    // Under the bound, the same server scrapes as before.
    const small = await client.scrape(`${site.url}/many-elements?n=1000`);
    expect(small.status).toBe(200);
    expect(small.body.data.markdown).toContain("Item number 999");
  } finally {
    await server?.close();
  }
});

test("a page whose conversion outgrows SCRAPE_TRANSFORM_MB ends its worker, not the server", async () => {
  let server: TestServer | undefined;
  try {
    // This test's own process is the server: it lives through the worker's end.
    server = await startTestServer({ SCRAPE_TRANSFORM_MB: "64", SCRAPE_TRANSFORM_WORKERS: "1" });
    const scrape = (n: number) =>
      postJson(`${server!.url}/v2/scrape`, { url: `${site.url}/many-elements?n=${n}` });
    const heavy = await scrape(150_000); // about 4 MB of HTML: some 200 MB of heap to convert
    expect(heavy.status, JSON.stringify(heavy.body)).toBe(422);
    expect(heavy.body.code).toBe("SCRAPE_PAGE_TOO_LARGE");
    expect(heavy.body.error).toContain("64 MB");
    expect(heavy.body.error).toContain("SCRAPE_TRANSFORM_MB");
    // The worker was replaced: the next page converts.
    const next = await scrape(1000);
    expect(next.status).toBe(200);
    expect(next.body.data.markdown).toContain("Item number 999");
  } finally {
    await server?.close();
  }
});

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { interact, stop } from "./helpers/interact.js";
import { postJson, startTestServer, type TestServer } from "./helpers/server.js";

let site: FixtureSite;
beforeAll(async () => {
  site = await startFixtureSite();
});
afterAll(() => site?.close());

/** Stores a scrape record directly, as if another team (or an earlier run) had made it. */
async function storedScrape(server: TestServer, teamId: string): Promise<string> {
  const id = randomUUID();
  await server.services.store.scrapes.insert({
    id,
    teamId,
    url: `${site.url}/`,
    finalUrl: `${site.url}/`,
    statusCode: 200,
    zeroDataRetention: false,
    replayContext: {
      version: 1,
      finalUrl: `${site.url}/`,
      loadedUrl: `${site.url}/`,
      headers: {},
      viewport: { width: 1280, height: 800 },
      mobile: false,
      ignoreHTTPSErrors: true,
      blockAds: false,
      cookies: [],
      storage: null,
      actions: [],
    },
    createdAt: Date.now(),
  });
  return id;
}

test("a scrape of another team is refused with 403, for interact and for stop", async () => {
  const server = await startTestServer();
  try {
    const id = await storedScrape(server, "another-team");
    const res = await interact(server.url, id, { code: "1" });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ success: false, error: "Forbidden." });
    expect((await stop(server.url, id)).status).toBe(403);
    expect(server.services.sessions.activeCount()).toBe(0);
  } finally {
    await server.close();
  }
});

test("with no usable Chromium, scrape and interact answer 503 and say what to install", async () => {
  const server = await startTestServer({ CHROMIUM_PATH: "/nonexistent/chromium" });
  try {
    const scrape = await postJson(`${server.url}/v2/scrape`, { url: `${site.url}/` });
    expect(scrape.status).toBe(503);
    expect(scrape.body.error).toMatch(/CHROMIUM_PATH/);
    const id = await storedScrape(server, "self-hosted");
    const res = await interact(server.url, id, { code: "1" });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe("BROWSER_UNAVAILABLE");
    // The server still answers, and its health says why it cannot work.
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as any).checks.chromium.ok).toBe(false);
    expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
  } finally {
    await server.close();
  }
});

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { interact, scrapeId, stop } from "./helpers/interact.js";
import { postJson, startTestServer, tempDataDir, type TestServer } from "./helpers/server.js";

let site: FixtureSite;
/**
 * One data directory for the servers below that scrape only to open a session: after the
 * first, their scrapes are cache hits and start no scrape browser.
 */
let shared: string;
beforeAll(async () => {
  site = await startFixtureSite();
  shared = tempDataDir();
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

test("URLs follow PUBLIC_URL, with wss:// for the CDP URL behind TLS", async () => {
  const server = await startTestServer({
    DATA_DIR: shared,
    PUBLIC_URL: "https://browser.example.com/",
  });
  try {
    const id = await scrapeId(server.url, { url: `${site.url}/` });
    const res = await interact(server.url, id, { code: "1" });
    expect(res.body.cdpUrl).toMatch(/^wss:\/\/browser\.example\.com\/cdp\/[A-Za-z0-9_-]{43}$/);
    expect(res.body.liveViewUrl).toMatch(/^https:\/\/browser\.example\.com\/live\//);
    expect(res.body.interactiveLiveViewUrl).toMatch(/^https:\/\/browser\.example\.com\/live\//);
  } finally {
    await server.close();
  }
});

test("without PUBLIC_URL but with TRUST_PROXY, URLs follow the forwarded host and protocol", async () => {
  const server = await startTestServer({ DATA_DIR: shared, TRUST_PROXY: "true" });
  try {
    const id = await scrapeId(server.url, { url: `${site.url}/` });
    const res = await fetch(`${server.url}/v2/scrape/${id}/interact`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-forwarded-proto": "https",
        "x-forwarded-host": "proxy.example.org",
      },
      body: JSON.stringify({ code: "1" }),
    });
    const body = await res.json();
    expect(body.cdpUrl).toMatch(/^wss:\/\/proxy\.example\.org\/cdp\//);
    expect(body.liveViewUrl).toMatch(/^https:\/\/proxy\.example\.org\/live\//);
  } finally {
    await server.close();
  }
});

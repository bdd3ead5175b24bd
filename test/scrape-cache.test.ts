import { expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { postJson, startTestServer, type TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";

let server: TestServer;
let site: FixtureSite;
useServerAndSite((s) => ({ server, site } = s));

const scrape = (body: unknown, on: TestServer = server) => postJson(`${on.url}/v2/scrape`, body);
const hits = (path: string, query = "") =>
  site.requests.filter((r) => r.path === path && r.query === query).length;

test("a repeat scrape is served from the cache under a new scrapeId with the same replay context", async () => {
  const first = await scrape({ url: `${site.url}/storage` });
  expect(first.body.data.metadata.cacheState).toBe("miss");
  const loads = hits("/storage");

  const second = await scrape({ url: `${site.url}/storage` });
  expect(second.status).toBe(200);
  expect(second.body.data.markdown).toBe(first.body.data.markdown);
  expect(second.body.data.metadata.cacheState).toBe("hit");
  expect(typeof second.body.data.metadata.cachedAt).toBe("string");
  expect(second.body.data.metadata.scrapeId).not.toBe(first.body.data.metadata.scrapeId);
  expect(hits("/storage")).toBe(loads); // the site was not asked again

  const a = await server.services.store.scrapes.get(first.body.data.metadata.scrapeId);
  const b = await server.services.store.scrapes.get(second.body.data.metadata.scrapeId);
  expect(b?.replayContext).toEqual(a?.replayContext);
  expect(b?.replayContext?.storage?.localStorage).toEqual({ theme: "dark" });
});

test("maxAge: 0 always loads the page; other formats are another cache entry", async () => {
  await scrape({ url: `${site.url}/meta?c=age` });
  const loads = hits("/meta", "c=age");
  const fresh = await scrape({ url: `${site.url}/meta?c=age`, maxAge: 0 });
  expect(fresh.body.data.metadata.cacheState).toBe("miss");
  expect(hits("/meta", "c=age")).toBe(loads + 1);
  const other = await scrape({ url: `${site.url}/meta?c=age`, formats: ["links"] });
  expect(other.body.data.metadata.cacheState).toBe("miss");
});

test("storeInCache: false, error pages and zero data retention leave nothing to hit", async () => {
  const url = `${site.url}/meta?c=store`;
  await scrape({ url, storeInCache: false });
  expect((await scrape({ url })).body.data.metadata.cacheState).toBe("miss");
  expect((await scrape({ url })).body.data.metadata.cacheState).toBe("hit");

  await scrape({ url: `${site.url}/missing-page` });
  expect((await scrape({ url: `${site.url}/missing-page` })).body.data.metadata.cacheState).toBe(
    "miss",
  );

  const zdrUrl = `${site.url}/meta?c=zdr`;
  await scrape({ url: zdrUrl, zeroDataRetention: true });
  expect((await scrape({ url: zdrUrl })).body.data.metadata.cacheState).toBe("miss");
  // ...nor does zero data retention read an entry that exists.
  const zdr = await scrape({ url: zdrUrl, zeroDataRetention: true });
  expect(zdr.body.data.metadata.cacheState).toBe("miss");
});

test("zero data retention keeps no replay context and returns screenshots inline", async () => {
  const res = await scrape({
    url: `${site.url}/?c=zdr`,
    formats: ["markdown", "screenshot"],
    zeroDataRetention: true,
  });
  expect(res.status).toBe(200);
  expect(res.body.data.screenshot).toMatch(/^data:image\/png;base64,/);
  const record = await server.services.store.scrapes.get(res.body.data.metadata.scrapeId);
  expect(record).toMatchObject({ zeroDataRetention: true, replayContext: null });
});

test("the replay context holds what a session needs to come back to the page", async () => {
  const res = await scrape({
    url: `${site.url}/?c=replay`,
    headers: { "X-Replay": "yes" },
    location: { country: "DE" },
    actions: [{ type: "click", selector: "#btn" }, { type: "scrape" }],
  });
  expect(res.status).toBe(200);
  const record = await server.services.store.scrapes.get(res.body.data.metadata.scrapeId);
  expect(record).toMatchObject({
    url: `${site.url}/?c=replay`,
    finalUrl: `${site.url}/?c=replay`,
    statusCode: 200,
    zeroDataRetention: false,
  });
  const replay = record!.replayContext!;
  expect(replay).toMatchObject({
    version: 1,
    finalUrl: `${site.url}/?c=replay`,
    loadedUrl: `${site.url}/?c=replay`,
    headers: { "X-Replay": "yes" },
    viewport: { width: 1280, height: 800 },
    mobile: false,
    locale: "de-DE",
    languages: ["de-DE", "de"],
    timezoneId: "Europe/Berlin",
    ignoreHTTPSErrors: true,
    blockAds: true,
    storage: {
      origin: site.url,
      localStorage: { lskey: "lsvalue" },
      sessionStorage: {},
    },
    actions: [{ type: "click", selector: "#btn", all: false }, { type: "scrape" }],
    actionsNavigated: false,
  });
  expect(replay.userAgent).toMatch(/Chrome\/\d+/);
  const cookies = Object.fromEntries(replay.cookies.map((c) => [c.name, c.value]));
  expect(cookies).toEqual({ servercookie: "fromserver", scriptcookie: "fromjs" });
});

test("actions that leave the page are recorded: loadedUrl, finalUrl and actionsNavigated", async () => {
  const res = await scrape({
    url: `${site.url}/signin-form`,
    actions: [{ type: "click", selector: "#go" }],
  });
  const record = await server.services.store.scrapes.get(res.body.data.metadata.scrapeId);
  expect(record?.replayContext).toMatchObject({
    loadedUrl: `${site.url}/signin-form`,
    finalUrl: `${site.url}/signin`,
    actionsNavigated: true,
  });
  const mobile = await scrape({ url: `${site.url}/storage?c=mobile`, mobile: true });
  const mobileRecord = await server.services.store.scrapes.get(mobile.body.data.metadata.scrapeId);
  expect(mobileRecord?.replayContext).toMatchObject({
    mobile: true,
    viewport: { width: 390, height: 844 },
    storage: { sessionStorage: { tab: "one" } },
  });
  expect(mobileRecord?.replayContext?.userAgent).toContain("iPhone");
});

test("scrape records and the cache survive a restart on the same data directory", async () => {
  const own = await startTestServer();
  const res = await scrape({ url: `${site.url}/?c=restart` }, own);
  const id = res.body.data.metadata.scrapeId;
  const before = await own.services.store.scrapes.get(id);
  await own.close();

  const again = await startTestServer({
    DATA_DIR: own.dataDir,
    PUBLIC_URL: "https://scrape.example.com",
  });
  try {
    const after = await again.services.store.scrapes.get(id);
    expect(after).toEqual(before);
    expect(after?.replayContext?.cookies.length).toBe(2);
    const hit = await scrape({ url: `${site.url}/?c=restart` }, again);
    expect(hit.body.data.metadata.cacheState).toBe("hit");
    // Screenshot URLs use PUBLIC_URL when it is set.
    const shot = await scrape({ url: `${site.url}/?c=restart`, formats: ["screenshot"] }, again);
    expect(shot.body.data.screenshot).toMatch(/^https:\/\/scrape\.example\.com\/v2\/files\//);
  } finally {
    await again.close();
  }
});

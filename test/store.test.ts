import { afterEach, expect, test } from "vitest";
import type { ReplayContext } from "../src/page-state/replay-context.js";
import type { ScrapeRecord, Store } from "../src/store/repositories.js";
import { openSqliteStore } from "../src/store/sqlite.js";
import { tempDataDir } from "./helpers/server.js";

const open: Store[] = [];
async function store(dir = tempDataDir()): Promise<Store> {
  const s = await openSqliteStore(dir);
  open.push(s);
  return s;
}
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
});

const replay: ReplayContext = {
  version: 1,
  finalUrl: "https://example.com/b",
  loadedUrl: "https://example.com/a",
  headers: { "X-A": "1" },
  viewport: { width: 1280, height: 800 },
  mobile: false,
  userAgent: "UA",
  locale: "de-DE",
  timezoneId: "Europe/Berlin",
  ignoreHTTPSErrors: true,
  blockAds: true,
  cookies: [
    {
      name: "c",
      value: "v",
      domain: "example.com",
      path: "/",
      expires: -1,
      httpOnly: true,
      secure: true,
      sameSite: "Lax",
    },
  ],
  storage: { origin: "https://example.com", localStorage: { k: "v" }, sessionStorage: {} },
  actions: [{ type: "click", selector: "#x", all: false }],
  actionsNavigated: true,
};

const record = (id: string, over: Partial<ScrapeRecord> = {}): ScrapeRecord => ({
  id,
  teamId: "team",
  url: "https://example.com/a",
  finalUrl: "https://example.com/b",
  statusCode: 200,
  zeroDataRetention: false,
  replayContext: replay,
  createdAt: 1_700_000_000_000,
  ...over,
});

test("scrape records round-trip, with and without a replay context", async () => {
  const s = await store();
  await s.scrapes.insert(record("a"));
  await s.scrapes.insert(
    record("b", { zeroDataRetention: true, replayContext: null, statusCode: null }),
  );
  expect(await s.scrapes.get("a")).toEqual(record("a"));
  expect(await s.scrapes.get("b")).toMatchObject({
    zeroDataRetention: true,
    replayContext: null,
    statusCode: null,
  });
  expect(await s.scrapes.get("missing")).toBeUndefined();
});

test("the cache answers only for entries younger than maxAge, and keeps the newest put", async () => {
  const s = await store();
  await s.cache.put("k", { v: 1 }, 1_000);
  expect(await s.cache.get("k", 500, 1_400)).toEqual({ v: 1 });
  expect(await s.cache.get("k", 500, 1_600)).toBeUndefined();
  await s.cache.put("k", { v: 2 }, 2_000);
  expect(await s.cache.get("k", 500, 2_100)).toEqual({ v: 2 });
  expect(await s.cache.get("other", 500, 2_100)).toBeUndefined();
});

test("prune drops only expired cache entries", async () => {
  const s = await store();
  await s.cache.put("old", 1, 1_000);
  await s.cache.put("new", 2, 5_000);
  expect(await s.cache.prune(2_000, 5_500)).toBe(1);
  expect(await s.cache.get("old", 10_000, 5_500)).toBeUndefined();
  expect(await s.cache.get("new", 10_000, 5_500)).toBe(2);
});

test("everything is on disk: a reopened store has the same records and cache", async () => {
  const dir = tempDataDir();
  const first = await store(dir);
  await first.scrapes.insert(record("kept"));
  await first.cache.put("key", { doc: "x" });
  await first.close();
  const second = await store(dir);
  expect(await second.scrapes.get("kept")).toEqual(record("kept"));
  expect(await second.cache.get("key", 60_000)).toEqual({ doc: "x" });
});

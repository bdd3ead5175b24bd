import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ScrapeCacheRepository, Store } from "../store/repositories.js";
import { openSqliteStore } from "../store/sqlite.js";
import type { PageResult } from "./page-result.js";
import type { ReplayContext } from "../page-state/replay-context.js";
import { CACHE_RETENTION_MS, ScrapeCache, type CachedScrape } from "./scrape-cache.js";

const HOUR = 60 * 60 * 1000;

const entry = (markdown: string): CachedScrape => ({
  result: { markdown } as unknown as PageResult,
  replay: { version: 1, finalUrl: "https://example.com/" } as unknown as ReplayContext,
  cachedAt: "2026-01-01T00:00:00.000Z",
});

let dir: string;
let store: Store;
/** The real cache table, with every prune recorded. */
let repo: ScrapeCacheRepository;
let prunes: number[];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fc-cache-"));
  store = await openSqliteStore(dir);
  prunes = [];
  repo = {
    get: (...args) => store.cache.get(...args),
    put: (...args) => store.cache.put(...args),
    prune: (maxAgeMs, now) => {
      prunes.push(maxAgeMs);
      return store.cache.prune(maxAgeMs, now);
    },
  };
});

afterEach(async () => {
  vi.useRealTimers();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("ScrapeCache", () => {
  it("gives back what was put, while it is younger than maxAge", async () => {
    const cache = new ScrapeCache(repo);
    await cache.put("k", entry("# Hello"));
    expect(await cache.get("k", 60_000)).toEqual(entry("# Hello"));
    expect(await cache.get("other", 60_000)).toBeUndefined();
  });

  it("reads an entry that is not a whole cached scrape as a miss", async () => {
    const cache = new ScrapeCache(repo);
    const whole = entry("x");
    const broken: Record<string, unknown> = {
      string: "not an object",
      null: null,
      noResult: { ...whole, result: undefined },
      noReplay: { ...whole, replay: undefined },
      noCachedAt: { ...whole, cachedAt: undefined },
    };
    for (const [name, doc] of Object.entries(broken)) await store.cache.put(name, doc);
    for (const name of Object.keys(broken)) {
      expect(await cache.get(name, 60_000), name).toBeUndefined();
    }
  });

  it("with a minimum age, gives back only an entry at least that old", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const cache = new ScrapeCache(repo);
    const scraped = { ...entry("x"), cachedAt: new Date().toISOString() };
    await cache.put("k", scraped);
    expect(await cache.get("k", HOUR, 60_000)).toBeUndefined();
    vi.setSystemTime(Date.now() + 60_000);
    expect(await cache.get("k", HOUR, 60_000)).toEqual(scraped);
    // Both bounds hold at once: past maxAge it is gone whatever minAge says.
    vi.setSystemTime(Date.now() + HOUR);
    expect(await cache.get("k", HOUR, 60_000)).toBeUndefined();
  });

  it("prunes expired entries on a put, at most once an hour", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const cache = new ScrapeCache(repo);
    await cache.put("a", entry("a"));
    expect(prunes).toEqual([CACHE_RETENTION_MS]);
    await cache.put("b", entry("b"));
    vi.setSystemTime(Date.now() + HOUR - 1000);
    await cache.put("c", entry("c"));
    expect(prunes).toHaveLength(1);
    vi.setSystemTime(Date.now() + 2000);
    await cache.put("d", entry("d"));
    expect(prunes).toHaveLength(2);
  });

  it("drops entries past the retention period when it prunes", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const cache = new ScrapeCache(repo);
    await cache.put("old", entry("old"));
    vi.setSystemTime(Date.now() + CACHE_RETENTION_MS + HOUR);
    await cache.put("new", entry("new"));
    const forever = Number.MAX_SAFE_INTEGER;
    expect(await cache.get("old", forever)).toBeUndefined();
    expect(await cache.get("new", forever)).toEqual(entry("new"));
  });
});

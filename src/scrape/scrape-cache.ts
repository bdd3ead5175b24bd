import type { ScrapeCacheRepository } from "../store/repositories.js";
import type { PageResult } from "./page-result.js";
import type { ReplayContext } from "../page-state/replay-context.js";

/** A cached scrape: the page result and the replay context a hit's new scrape record reuses. */
export interface CachedScrape {
  result: PageResult;
  replay: ReplayContext;
  /** ISO time the page was scraped, reported as metadata.cachedAt on hits. */
  cachedAt: string;
}

/** Entries older than this are pruned; a longer maxAge cannot be honoured. */
export const CACHE_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Recent scrape results for maxAge, in the store's cache repository. */
export class ScrapeCache {
  private lastPrune = 0;

  constructor(private readonly repo: ScrapeCacheRepository) {}

  /**
   * The entry for key if younger than maxAgeMs and at least minAgeMs old; a corrupt or foreign
   * entry reads as a miss. Only the newest result per key is kept, so an older one that would
   * meet minAgeMs is gone once a newer one replaced it.
   */
  async get(key: string, maxAgeMs: number, minAgeMs = 0): Promise<CachedScrape | undefined> {
    const entry = (await this.repo.get(key, maxAgeMs)) as Partial<CachedScrape> | undefined;
    if (!entry || typeof entry !== "object" || !entry.result || !entry.replay || !entry.cachedAt) {
      return undefined;
    }
    if (minAgeMs > 0 && !(Date.now() - Date.parse(entry.cachedAt) >= minAgeMs)) return undefined;
    return entry as CachedScrape;
  }

  /** Stores an entry, pruning expired ones now and then so the table stays small. */
  async put(key: string, entry: CachedScrape): Promise<void> {
    await this.repo.put(key, entry);
    const now = Date.now();
    if (now - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = now;
      await this.repo.prune(CACHE_RETENTION_MS, now);
    }
  }
}

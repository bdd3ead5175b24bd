import { randomUUID } from "node:crypto";
import type { Browser } from "playwright-core";
import type { Config } from "../config/config.js";
import { AppError } from "../errors/app-error.js";
import type { FileStore } from "../files/file-store.js";
import type { Store } from "../store/repositories.js";
import type { OpenProfile, ProfileService } from "../profiles/service.js";
import { scrapeInBrowser } from "./browser-scrape.js";
import type { PageResult } from "./page-result.js";
import { cacheKey } from "./cache-key.js";
import { ScrapeDeadline } from "./deadline.js";
import { toDocument, type ScrapeDocument } from "./document.js";
import { hostOf } from "./navigation-errors.js";
import { ScrapeMeter, type ScrapeSettlement } from "./price.js";
import type { EgressProxy } from "../network/egress-proxy.js";
import type { ReplayContext } from "../page-state/replay-context.js";
import type { ScrapeRequest } from "./request.js";
import { ScrapeCache } from "./scrape-cache.js";
import { ScrapeSlots } from "./scrape-slots.js";
import { PageTransforms } from "./transforms/page-transforms.js";

export type { ScrapeDocument } from "./document.js";
export type { ScrapeSettlement } from "./price.js";

/** Pays for scrapes; the teams module implements it (a no-op without authentication). */
export interface ScrapeCredits {
  /**
   * Takes the most a scrape may cost (`credits`, for its timeout) before it runs, or throws
   * (402); the charge is `apiKeyId`'s, the key that asked for the scrape.
   */
  chargeScrape(
    teamId: string,
    scrapeId: string,
    hold: { credits: number; timeoutMs: number },
    apiKeyId?: string | null,
  ): Promise<void>;
  /** Gives back what the scrape did not cost, once it is over (see price.ts for the rule). */
  refundScrape(teamId: string, scrapeId: string, s: ScrapeSettlement): Promise<void>;
}

export interface ScrapeServiceDeps {
  config: Config;
  store: Store;
  files: FileStore;
  /** The scrape browser; its egress proxy holds the network policy. */
  browser: { get(): Promise<Browser>; readonly egress: EgressProxy };
  credits?: ScrapeCredits;
  /** Named browser profiles (`profile` on a scrape). */
  profiles?: ProfileService;
  /** Told of every scrape: "ok" or its error code, and how long it took. */
  onDone?: (outcome: string, seconds: number) => void;
}

export interface ScrapeOptions {
  signal: AbortSignal;
  /** Where this server is reached, for URLs in the response (screenshots). */
  baseUrl: string;
  /** The API key that asked for the scrape (its usage), when one was asked for. */
  apiKeyId?: string | null;
}

/** Loads a URL in Chromium and returns Firecrawl's v2 document; keeps a replay context. */
export class ScrapeService {
  private readonly cache: ScrapeCache;
  /** Bounds the scrapes using the browser at once, shared fairly between teams. */
  readonly slots: ScrapeSlots;
  /** Markdown and metadata are made in worker threads, never on the event loop. */
  private readonly transforms: PageTransforms;

  constructor(private readonly deps: ScrapeServiceDeps) {
    this.cache = new ScrapeCache(deps.store.cache);
    this.slots = new ScrapeSlots(deps.config.maxConcurrentScrapes, deps.config.teamMaxScrapes);
    this.transforms = new PageTransforms({
      workers: deps.config.transformWorkers,
      memoryMb: deps.config.transformMemoryMb,
      timeoutMs: deps.config.transformTimeoutMs,
    });
  }

  /** Ends the transform workers; scrapes still converting fail. */
  close(): Promise<void> {
    return this.transforms.close();
  }

  async scrape(teamId: string, req: ScrapeRequest, opts: ScrapeOptions): Promise<ScrapeDocument> {
    const began = Date.now();
    let outcome = "error";
    try {
      const doc = await this.scrapeOnce(teamId, req, opts);
      outcome = "ok";
      return doc;
    } catch (err) {
      if (err instanceof AppError) outcome = err.code;
      throw err;
    } finally {
      this.deps.onDone?.(outcome, (Date.now() - began) / 1000);
    }
  }

  private async scrapeOnce(
    teamId: string,
    req: ScrapeRequest,
    opts: ScrapeOptions,
  ): Promise<ScrapeDocument> {
    const scrapeId = randomUUID();
    // Before the charge: a profile another writer holds (409) costs nothing.
    const profile = await this.openProfile(teamId, scrapeId, req);
    const credits = this.deps.credits;
    const meter = new ScrapeMeter(req.timeout);
    try {
      // The most it may cost, paid up front under the team's lock: concurrent scrapes never
      // spend one credit twice.
      await credits?.chargeScrape(
        teamId,
        scrapeId,
        { credits: meter.held, timeoutMs: req.timeout },
        opts.apiKeyId,
      );
      let doc: ScrapeDocument;
      try {
        doc = await this.run(scrapeId, teamId, req, opts, profile, meter);
      } catch (err) {
        // Refunded unless it held a slot and the failure was the tenant's (price.ts).
        await credits?.refundScrape(teamId, scrapeId, meter.settle(true, err)).catch(() => {});
        throw err;
      }
      // What it did not use of its hold comes back.
      await credits?.refundScrape(teamId, scrapeId, meter.settle(false)).catch(() => {});
      return doc;
    } finally {
      // A writer that failed before saving gives the profile back unchanged.
      await profile?.finish(undefined);
    }
  }

  /** The scrape's named profile, opened for the scrape's whole time (and a minute). */
  private async openProfile(
    teamId: string,
    scrapeId: string,
    req: ScrapeRequest,
  ): Promise<OpenProfile | undefined> {
    if (!req.profile) return undefined;
    if (!this.deps.profiles) {
      throw new AppError("BAD_REQUEST", "profile: named browser profiles are not available here.");
    }
    return this.deps.profiles.open(teamId, req.profile, scrapeId, req.timeout + 60_000);
  }

  private async run(
    scrapeId: string,
    teamId: string,
    req: ScrapeRequest,
    opts: ScrapeOptions,
    profile: OpenProfile | undefined,
    meter: ScrapeMeter,
  ): Promise<ScrapeDocument> {
    const { config } = this.deps;
    // minAge and lockdown let only the cache answer. Zero data retention writes nothing to the
    // cache and, unless only the cache may answer, reads nothing from it either.
    const cacheOnly = req.lockdown || req.minAge !== undefined;
    if (cacheOnly && profile) {
      throw new AppError(
        "BAD_REQUEST",
        "profile cannot be combined with minAge or lockdown: those answer from the cache, which keeps no profile's state.",
      );
    }
    // What a page shows depends on a profile's cookies: such results are neither cached nor
    // served from the cache.
    const cacheable = !req.zeroDataRetention && !profile;
    const key = cacheable || cacheOnly ? cacheKey(teamId, req, config.allowPrivateNetwork) : "";
    if (cacheOnly || (cacheable && req.maxAge > 0)) {
      const hit = await this.cache.get(key, req.maxAge, req.minAge);
      if (hit) {
        await this.record(scrapeId, teamId, req, hit.result, hit.replay);
        return toDocument(hit.result, {
          sourceURL: req.sourceURL,
          scrapeId,
          cacheState: "hit",
          cachedAt: hit.cachedAt,
          baseUrl: opts.baseUrl,
          creditsUsed: meter.price(),
        });
      }
      if (cacheOnly) throw noCachedData(req);
    }

    // The timeout counts from here: time spent waiting for a slot is part of it.
    const deadline = new ScrapeDeadline(req.timeout, opts.signal, hostOf(req.url));
    let scraped;
    try {
      const release = await this.slots.acquire(teamId, deadline);
      meter.slotTaken();
      try {
        scraped = await scrapeInBrowser(
          {
            browser: this.deps.browser,
            files: this.deps.files,
            transforms: this.transforms,
            maxPageBytes: this.deps.config.scrapeMaxPageBytes,
          },
          req,
          deadline,
          profile,
        );
      } finally {
        release();
        meter.slotReleased();
      }
    } finally {
      deadline.dispose();
    }
    const { result, replay } = scraped;
    await this.record(scrapeId, teamId, req, result, replay);
    const ok = result.statusCode >= 200 && result.statusCode < 300;
    if (cacheable && req.storeInCache && ok && replay) {
      // The scrape is stored (and so paid for): a cache that cannot take it fails nothing.
      await this.cache
        .put(key, { result, replay, cachedAt: new Date().toISOString() })
        .catch(() => undefined);
    }
    return toDocument(result, {
      sourceURL: req.sourceURL,
      scrapeId,
      cacheState: "miss",
      baseUrl: opts.baseUrl,
      creditsUsed: meter.price(),
    });
  }

  /**
   * Writes the scrape record interact sessions are later bound to. Lockdown is zero data
   * retention too, as in Firecrawl.
   */
  private async record(
    id: string,
    teamId: string,
    req: ScrapeRequest,
    result: PageResult,
    replay: ReplayContext | null,
  ): Promise<void> {
    await this.deps.store.scrapes.insert({
      id,
      teamId,
      url: req.url,
      finalUrl: result.finalUrl,
      statusCode: result.statusCode,
      zeroDataRetention: req.zeroDataRetention || req.lockdown,
      replayContext: req.zeroDataRetention || req.lockdown ? null : replay,
      createdAt: Date.now(),
      profile: req.profile && !req.zeroDataRetention ? req.profile : null,
    });
  }
}

/** A 404 for a cache-only request, under Firecrawl's own codes. */
function noCachedData(req: ScrapeRequest): AppError {
  const why = req.lockdown
    ? "lockdown only reads the cache and never contacts the site"
    : "with minAge set only the cache is read";
  const age =
    req.minAge !== undefined
      ? `between ${req.minAge} and ${req.maxAge} ms old`
      : `at most ${req.maxAge} ms old`;
  const message =
    `No cached data for this scrape: ${why}, and no result of this URL with these options ` +
    `is ${age}.`;
  return new AppError(
    req.lockdown ? "SCRAPE_LOCKDOWN_CACHE_MISS" : "SCRAPE_NO_CACHED_DATA",
    message,
  );
}

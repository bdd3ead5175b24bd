import { randomUUID } from "node:crypto";
import TurndownService from "turndown";
import type { Browser } from "playwright-core";
import type { Config } from "../config/config.js";
import type { FileStore } from "../files/file-store.js";
import type { Store } from "../store/repositories.js";
import { DESKTOP_VIEWPORT } from "../browser/flags.js";
import type { ScrapeRequest } from "./request.js";
import type { ReplayContext } from "./replay-context.js";

export interface ScrapeServiceDeps {
  config: Config;
  store: Store;
  files: FileStore;
  browser: { get(): Promise<Browser> };
}

export interface ScrapeOptions {
  signal: AbortSignal;
  /** Where this server is reached, for URLs in the response (screenshots). */
  baseUrl: string;
}

export type ScrapeDocument = Record<string, unknown> & { metadata: Record<string, unknown> };

/** Loads a URL in Chromium and returns Firecrawl's v2 document; keeps a replay context. */
export class ScrapeService {
  constructor(private readonly deps: ScrapeServiceDeps) {}

  async scrape(teamId: string, req: ScrapeRequest, _opts: ScrapeOptions): Promise<ScrapeDocument> {
    const browser = await this.deps.browser.get();
    const context = await browser.newContext({ viewport: DESKTOP_VIEWPORT });
    try {
      const page = await context.newPage();
      const response = await page.goto(req.url, { timeout: req.timeout });
      const html = await page.content();
      const scrapeId = randomUUID();
      const replay: ReplayContext = {
        version: 1,
        finalUrl: page.url(),
        loadedUrl: page.url(),
        headers: req.headers ?? {},
        viewport: DESKTOP_VIEWPORT,
        mobile: false,
        ignoreHTTPSErrors: req.skipTlsVerification,
        blockAds: req.blockAds,
        cookies: await context.cookies(),
        storage: null,
        actions: [],
      };
      await this.deps.store.scrapes.insert({
        id: scrapeId,
        teamId,
        url: req.url,
        finalUrl: page.url(),
        statusCode: response?.status() ?? null,
        zeroDataRetention: req.zeroDataRetention,
        replayContext: req.zeroDataRetention ? null : replay,
        createdAt: Date.now(),
      });
      return {
        markdown: new TurndownService().turndown(html),
        metadata: {
          title: await page.title(),
          sourceURL: req.url,
          url: page.url(),
          statusCode: response?.status() ?? 0,
          scrapeId,
        },
      };
    } finally {
      await context.close().catch(() => {});
    }
  }
}

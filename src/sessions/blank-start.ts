import { DESKTOP_VIEWPORT } from "../chromium/flags.js";
import type { ReplayContext } from "../page-state/replay-context.js";
import { locationEmulation } from "../scrape/location.js";
import { desktopUserAgent } from "../scrape/page-setup.js";

/** What a standalone session asks of its browser before its first page (Firecrawl's fields). */
export interface BlankStartOptions {
  /** Block ads and trackers' requests, as a scrape's `blockAds`. */
  blockAds: boolean;
  /** A validated ISO 3166-1 alpha-2 country: locale, languages and time zone as a scrape's. */
  country?: string;
}

/**
 * Where a standalone browser session starts: a blank page in a desktop browser that presents
 * itself as a scrape does (a regular Chrome user agent, not HeadlessChrome), with the session's
 * ad blocking and location.
 */
export function blankStart(browserVersion: string, opts: BlankStartOptions): ReplayContext {
  const emulation = opts.country ? locationEmulation(opts.country) : undefined;
  return {
    version: 1,
    finalUrl: "about:blank",
    loadedUrl: "about:blank",
    headers: {},
    viewport: { ...DESKTOP_VIEWPORT },
    mobile: false,
    userAgent: desktopUserAgent(browserVersion),
    ...(emulation
      ? {
          locale: emulation.locale,
          languages: emulation.languages,
          timezoneId: emulation.timezoneId,
        }
      : {}),
    ignoreHTTPSErrors: false,
    blockAds: opts.blockAds,
    cookies: [],
    storage: null,
    actions: [],
  };
}

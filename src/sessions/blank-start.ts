import { DESKTOP_VIEWPORT } from "../chromium/flags.js";
import type { ReplayContext } from "../page-state/replay-context.js";
import { desktopUserAgent } from "../scrape/page-setup.js";

/**
 * Where a standalone browser session starts: a blank page in a desktop browser that presents
 * itself as a scrape does (a regular Chrome user agent, not HeadlessChrome), nothing else set.
 */
export function blankStart(browserVersion: string): ReplayContext {
  return {
    version: 1,
    finalUrl: "about:blank",
    loadedUrl: "about:blank",
    headers: {},
    viewport: { ...DESKTOP_VIEWPORT },
    mobile: false,
    userAgent: desktopUserAgent(browserVersion),
    ignoreHTTPSErrors: false,
    blockAds: false,
    cookies: [],
    storage: null,
    actions: [],
  };
}

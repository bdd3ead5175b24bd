import type { BrowserContextOptions } from "playwright-core";
import { DESKTOP_VIEWPORT, MOBILE_USER_AGENT, MOBILE_VIEWPORT } from "../browser/flags.js";
import { locationEmulation } from "./location.js";
import type { ScrapeRequest } from "./request.js";
import type { ReplayContext } from "./replay-context.js";

/** The parts of a replay context fixed before the page loads. */
export type ReplaySetup = Pick<
  ReplayContext,
  | "headers"
  | "viewport"
  | "mobile"
  | "userAgent"
  | "locale"
  | "languages"
  | "timezoneId"
  | "ignoreHTTPSErrors"
  | "blockAds"
>;

export interface PageSetup {
  contextOptions: BrowserContextOptions;
  /** Applied per page over CDP (see page-tuning.ts), not through Playwright's options. */
  language?: { locale: string; languages?: string[] };
  replay: ReplaySetup;
}

/**
 * Desktop Chrome's user agent for this browser version. Headless Chromium announces itself as
 * "HeadlessChrome", which many sites answer with a block page.
 */
export function desktopUserAgent(browserVersion: string): string {
  const major = browserVersion.split(".")[0] || "130";
  return (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
    `Chrome/${major}.0.0.0 Safari/537.36`
  );
}

/** Browser context options for a request: viewport, device, time zone, headers, TLS. */
export function pageSetup(req: ScrapeRequest, browserVersion: string): PageSetup {
  const headers = { ...(req.headers ?? {}) };
  const emulation = req.location
    ? locationEmulation(req.location.country, req.location.languages)
    : undefined;
  // The client's own Accept-Language wins over the one location would give.
  const ownLanguage = Object.keys(headers).some((h) => h.toLowerCase() === "accept-language");
  const viewport = req.mobile ? { ...MOBILE_VIEWPORT } : { ...DESKTOP_VIEWPORT };
  const userAgent = req.mobile ? MOBILE_USER_AGENT : desktopUserAgent(browserVersion);
  const contextOptions: BrowserContextOptions = {
    viewport,
    userAgent,
    isMobile: req.mobile,
    hasTouch: req.mobile,
    // Not Playwright's `locale`: it would send only that one language as Accept-Language, over
    // any header of ours; page-tuning sets the locale and the whole language list instead.
    timezoneId: emulation?.timezoneId,
    extraHTTPHeaders: Object.keys(headers).length > 0 ? headers : undefined,
    ignoreHTTPSErrors: req.skipTlsVerification,
    acceptDownloads: false,
  };
  return {
    contextOptions,
    language: emulation && {
      locale: emulation.locale,
      languages: ownLanguage ? undefined : emulation.languages,
    },
    replay: {
      headers,
      viewport,
      mobile: req.mobile,
      userAgent,
      locale: emulation?.locale,
      languages: emulation?.languages,
      timezoneId: emulation?.timezoneId,
      ignoreHTTPSErrors: req.skipTlsVerification,
      blockAds: req.blockAds,
    },
  };
}

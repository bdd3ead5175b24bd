import { DESKTOP_VIEWPORT, MOBILE_USER_AGENT, MOBILE_VIEWPORT } from "../chromium/flags.js";
import type { PageSettings } from "../page-state/page-state.js";
import { locationEmulation } from "./location.js";
import type { ScrapeRequest } from "./request.js";

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

/**
 * What a scrape request asks of the page before it loads: viewport, device, user agent,
 * location (locale, languages, time zone), headers, TLS and ad blocking. page-state turns it
 * into browser settings; the replay context keeps it for the session.
 */
export function pageSettings(req: ScrapeRequest, browserVersion: string): PageSettings {
  const emulation = req.location
    ? locationEmulation(req.location.country, req.location.languages)
    : undefined;
  return {
    headers: { ...(req.headers ?? {}) },
    viewport: req.mobile ? { ...MOBILE_VIEWPORT } : { ...DESKTOP_VIEWPORT },
    mobile: req.mobile,
    userAgent: req.mobile ? MOBILE_USER_AGENT : desktopUserAgent(browserVersion),
    locale: emulation?.locale,
    languages: emulation?.languages,
    timezoneId: emulation?.timezoneId,
    ignoreHTTPSErrors: req.skipTlsVerification,
    blockAds: req.blockAds,
  };
}

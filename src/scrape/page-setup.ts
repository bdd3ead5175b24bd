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
  | "timezoneId"
  | "ignoreHTTPSErrors"
  | "blockAds"
>;

export interface PageSetup {
  contextOptions: BrowserContextOptions;
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

/** Browser context options for a request: viewport, device, locale, headers, TLS, proxy. */
export function pageSetup(
  req: ScrapeRequest,
  browserVersion: string,
  proxyServer?: string,
): PageSetup {
  const headers: Record<string, string> = {};
  let locale: string | undefined;
  let timezoneId: string | undefined;
  if (req.location) {
    const emulation = locationEmulation(req.location.country, req.location.languages);
    locale = emulation.locale;
    timezoneId = emulation.timezoneId;
    headers["Accept-Language"] = emulation.acceptLanguage;
  }
  // The client's own headers win, including over the Accept-Language derived from location.
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    for (const k of Object.keys(headers))
      if (k.toLowerCase() === name.toLowerCase()) delete headers[k];
    headers[name] = value;
  }
  const viewport = req.mobile ? { ...MOBILE_VIEWPORT } : { ...DESKTOP_VIEWPORT };
  const userAgent = req.mobile ? MOBILE_USER_AGENT : desktopUserAgent(browserVersion);
  const contextOptions: BrowserContextOptions = {
    viewport,
    userAgent,
    isMobile: req.mobile,
    hasTouch: req.mobile,
    locale,
    timezoneId,
    extraHTTPHeaders: Object.keys(headers).length > 0 ? headers : undefined,
    ignoreHTTPSErrors: req.skipTlsVerification,
    acceptDownloads: false,
    ...(proxyServer ? { proxy: { server: proxyServer } } : {}),
  };
  return {
    contextOptions,
    replay: {
      headers,
      viewport,
      mobile: req.mobile,
      userAgent,
      locale,
      timezoneId,
      ignoreHTTPSErrors: req.skipTlsVerification,
      blockAds: req.blockAds,
    },
  };
}

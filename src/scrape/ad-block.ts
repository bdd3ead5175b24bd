import type { BrowserContext, Page } from "playwright-core";

/** Ad and tracker hosts (and their subdomains) that blockAds keeps a page from loading. */
export const AD_HOSTS: readonly string[] = [
  "doubleclick.net",
  "googlesyndication.com",
  "googleadservices.com",
  "googletagservices.com",
  "googletagmanager.com",
  "google-analytics.com",
  "adservice.google.com",
  "amazon-adsystem.com",
  "adnxs.com",
  "adsrvr.org",
  "advertising.com",
  "adform.net",
  "ads-twitter.com",
  "criteo.com",
  "criteo.net",
  "casalemedia.com",
  "doubleverify.com",
  "adsafeprotected.com",
  "moatads.com",
  "outbrain.com",
  "taboola.com",
  "pubmatic.com",
  "rubiconproject.com",
  "openx.net",
  "scorecardresearch.com",
  "quantserve.com",
  "hotjar.com",
  "media.net",
  "smartadserver.com",
  "teads.tv",
  "3lift.com",
  "sharethrough.com",
  "bidswitch.net",
  "connect.facebook.net",
];

/** Ad scripts that sites also serve from their own host, blocked wherever they come from. */
export const AD_PATHS: readonly string[] = ["/adsbygoogle.js", "/show_ads.js"];

/** True when a URL belongs to the block list. */
export function isAdUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const host = u.hostname.toLowerCase();
  if (AD_HOSTS.some((h) => host === h || host.endsWith(`.${h}`))) return true;
  return AD_PATHS.some((p) => u.pathname.endsWith(p));
}

/** Chromium URL patterns that pre-select candidates; isAdUrl makes the final call. */
const PATTERNS = [
  ...AD_HOSTS.flatMap((h) => [`*://${h}/*`, `*://*.${h}/*`, `*://${h}:*`, `*://*.${h}:*`]),
  ...AD_PATHS.map((p) => `*${p}*`),
].map((urlPattern) => ({ urlPattern, requestStage: "Request" as const }));

interface RequestPaused {
  requestId: string;
  request: { url: string };
}

/**
 * Makes the page fail requests to ad and tracker URLs. It asks Chromium to pause only requests
 * matching the list (Fetch.enable with patterns), so every other request flows untouched; a
 * Playwright route would pause every request of the page for a round trip through Node.
 * Frames in other processes (cross-site iframes) are not covered, but their documents are
 * requested by this page, so an ad iframe from a listed host never loads.
 */
export async function blockAds(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  cdp.on("Fetch.requestPaused", (e: RequestPaused) => {
    const reply = isAdUrl(e.request.url)
      ? cdp.send("Fetch.failRequest", { requestId: e.requestId, errorReason: "BlockedByClient" })
      : cdp.send("Fetch.continueRequest", { requestId: e.requestId });
    reply.catch(() => {}); // the page may be gone
  });
  await cdp.send("Fetch.enable", { patterns: PATTERNS });
}

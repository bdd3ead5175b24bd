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

/**
 * Chromium URL patterns that pre-select candidates for isAdUrl (which makes the final call: a
 * pattern like *://*.doubleclick.net/* also matches a URL merely mentioning that host).
 */
export const AD_URL_PATTERNS: string[] = [
  ...AD_HOSTS.flatMap((h) => [`*://${h}/*`, `*://*.${h}/*`, `*://${h}:*`, `*://*.${h}:*`]),
  ...AD_PATHS.map((p) => `*${p}*`),
];

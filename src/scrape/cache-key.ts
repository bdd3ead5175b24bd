import { createHash } from "node:crypto";
import { wantedFormats } from "./formats.js";
import type { ScrapeRequest } from "./request.js";

/**
 * The cache key: the target and every option that changes what a scrape returns. Options that
 * only change whether it succeeds (timeout) or how the answer is stored (maxAge, storeInCache,
 * zeroDataRetention) are left out; formats count by meaning, not by spelling or order.
 */
export function cacheKey(teamId: string, req: ScrapeRequest, allowPrivateNetwork: boolean): string {
  const headers = Object.entries(req.headers ?? {})
    .map(([k, v]) => [k.toLowerCase(), v])
    .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0));
  const material = {
    v: 1,
    teamId,
    url: req.url,
    formats: wantedFormats(req.formats),
    onlyMainContent: req.onlyMainContent,
    includeTags: req.includeTags ?? [],
    excludeTags: req.excludeTags ?? [],
    headers,
    waitFor: req.waitFor,
    mobile: req.mobile,
    actions: req.actions ?? [],
    location: req.location ?? null,
    skipTlsVerification: req.skipTlsVerification,
    removeBase64Images: req.removeBase64Images,
    blockAds: req.blockAds,
    // A result fetched while private addresses were allowed must not be served once they are not.
    allowPrivateNetwork,
  };
  return createHash("sha256").update(JSON.stringify(material)).digest("base64url");
}

import type { BrowserContext, Page } from "playwright-core";
import { AD_URL_PATTERNS, isAdUrl } from "./ad-block.js";

export interface PageTuning {
  blockAds: boolean;
  userAgent: string;
  language?: { locale: string; languages?: string[] };
}

interface RequestPaused {
  requestId: string;
  request: { url: string };
}

/**
 * Per-page settings sent over one CDP session, for what Playwright's options cannot express.
 *
 * Ad blocking: Chromium is asked to pause only requests matching the block list (Fetch.enable
 * with patterns), so every other request flows untouched; a Playwright route would pause every
 * request of the page for a round trip through Node. Frames in other processes (cross-site
 * iframes) are not covered, but their documents are requested by this page, so an ad iframe
 * from a listed host never loads.
 *
 * Language: the locale (Intl, navigator.language) and the whole language list, which Chromium
 * turns into navigator.languages and an Accept-Language header with q-values, on the page and
 * its subresources alike.
 */
export async function tunePage(context: BrowserContext, page: Page, t: PageTuning): Promise<void> {
  if (!t.blockAds && !t.language) return;
  const cdp = await context.newCDPSession(page);
  const calls: Promise<unknown>[] = [];
  if (t.language) {
    calls.push(cdp.send("Emulation.setLocaleOverride", { locale: t.language.locale }));
    if (t.language.languages) {
      calls.push(
        cdp.send("Network.setUserAgentOverride", {
          userAgent: t.userAgent,
          acceptLanguage: t.language.languages.join(","),
        }),
      );
    }
  }
  if (t.blockAds) {
    cdp.on("Fetch.requestPaused", (e: RequestPaused) => {
      const reply = isAdUrl(e.request.url)
        ? cdp.send("Fetch.failRequest", { requestId: e.requestId, errorReason: "BlockedByClient" })
        : cdp.send("Fetch.continueRequest", { requestId: e.requestId });
      reply.catch(() => {}); // the page may be gone
    });
    const patterns = AD_URL_PATTERNS.map((urlPattern) => ({
      urlPattern,
      requestStage: "Request" as const,
    }));
    calls.push(cdp.send("Fetch.enable", { patterns }));
  }
  await Promise.all(calls);
}

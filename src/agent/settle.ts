import type { BrowserContext, Page, Request } from "playwright-core";
import { pageCall } from "../chromium/page-call.js";

/** How long the DOM must stay unchanged to count as settled. */
const QUIET_MS = 50;
/** The longest any one wait below may take. */
const MAX_DOM_WAIT_MS = 1_000;
const MAX_REQUEST_WAIT_MS = 2_000;
const MAX_LOAD_WAIT_MS = 10_000;

export interface Settled {
  /** The main frame went to a new document. */
  navigated: boolean;
  /** A tab the action opened (a popup, a target=_blank link). */
  opened?: Page;
}

/** Runs in the page: resolves once no DOM change happened for `quiet` ms, or after `max` ms. */
function domQuiet(o: { quiet: number; max: number }): Promise<void> {
  return new Promise<void>((resolve) => {
    let timer = setTimeout(done, o.quiet);
    const cap = setTimeout(done, o.max);
    const observer = new MutationObserver(() => {
      clearTimeout(timer);
      timer = setTimeout(done, o.quiet);
    });
    observer.observe(document, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    });
    function done() {
      observer.disconnect();
      clearTimeout(timer);
      clearTimeout(cap);
      resolve();
    }
  });
}

/**
 * Runs an action and waits for what it set off to finish: a navigation's document, the page's
 * fetches, and DOM changes, each within a cap and never past `deadline`.
 */
export async function settle(
  context: BrowserContext,
  page: Page,
  act: () => Promise<unknown>,
  deadline: number,
): Promise<Settled> {
  const inflight = new Set<Request>();
  let navigated = false;
  let opened: Page | undefined;
  const onRequest = (r: Request) => {
    const type = r.resourceType();
    if (type === "document" || type === "xhr" || type === "fetch") inflight.add(r);
  };
  const onDone = (r: Request) => inflight.delete(r);
  const onNav = (f: unknown) => {
    if (f === page.mainFrame()) navigated = true;
  };
  const onPage = (p: Page) => (opened ??= p);
  page.on("request", onRequest);
  page.on("requestfinished", onDone);
  page.on("requestfailed", onDone);
  page.on("framenavigated", onNav);
  context.on("page", onPage);
  const left = (cap: number) => Math.max(0, Math.min(cap, deadline - Date.now()));
  try {
    await act();
    if (navigated || [...inflight].some((r) => r.isNavigationRequest())) {
      await page
        .waitForLoadState("domcontentloaded", { timeout: left(MAX_LOAD_WAIT_MS) })
        .catch(() => {});
    }
    const until = Date.now() + left(MAX_REQUEST_WAIT_MS);
    while (inflight.size && Date.now() < until && !page.isClosed()) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (let attempt = 0; attempt < 2 && !page.isClosed(); attempt++) {
      try {
        await page.evaluate(pageCall(domQuiet, { quiet: QUIET_MS, max: left(MAX_DOM_WAIT_MS) }));
        break;
      } catch {
        // A navigation replaced the document mid-wait: wait for the new one instead.
        await page
          .waitForLoadState("domcontentloaded", { timeout: left(MAX_LOAD_WAIT_MS) })
          .catch(() => {});
      }
    }
  } finally {
    page.off("request", onRequest);
    page.off("requestfinished", onDone);
    page.off("requestfailed", onDone);
    page.off("framenavigated", onNav);
    context.off("page", onPage);
  }
  return { navigated, ...(opened ? { opened } : {}) };
}

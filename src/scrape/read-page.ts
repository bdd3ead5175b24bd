import type { CDPSession, Page, Response } from "playwright-core";
import { AppError } from "../errors/app-error.js";
import { wantedFormats } from "./formats.js";
import { MAIN_SELECTORS, NON_MAIN_SELECTORS } from "./main-content.js";
import type { ScrapeRequest } from "./request.js";
import { extractPage, type ExtractOptions, type PageExtract } from "./transforms/extract-page.js";
import { BASE64_PLACEHOLDER } from "./transforms/markdown.js";
import { pageCall } from "../chromium/page-call.js";

/** Refuses bad CSS in includeTags/excludeTags before loading anything, in the browser's own parser. */
export async function checkSelectors(page: Page, req: ScrapeRequest): Promise<void> {
  const named = [
    ...(req.includeTags ?? []).map((s, i) => ({ s, path: `includeTags.${i}` })),
    ...(req.excludeTags ?? []).map((s, i) => ({ s, path: `excludeTags.${i}` })),
  ];
  if (named.length === 0) return;
  const selectors = named.map((n) => n.s);
  const invalid = (await page.evaluate((list) => {
    const frag = document.createDocumentFragment();
    return list.filter((s) => {
      try {
        frag.querySelector(s);
        return false;
      } catch {
        return true;
      }
    });
  }, selectors)) as string[];
  if (invalid.length > 0) {
    const details = named
      .filter((n) => invalid.includes(n.s))
      .map((n) => ({ path: n.path, message: `not a valid CSS selector: ${n.s}` }));
    throw new AppError(
      "BAD_REQUEST",
      "Bad Request: " + details.map((d) => `${d.path}: ${d.message}`).join("; "),
      details,
    );
  }
}

/** "json" or "text" when the page is not HTML but a document Chromium shows as plain text. */
export function plainTextType(response: Response | null): "json" | "text" | undefined {
  const type = response?.headers()["content-type"] ?? "";
  if (/^application\/([\w.+-]*\+)?json|^text\/json/i.test(type)) return "json";
  if (/^text\/plain/i.test(type)) return "text";
  return undefined;
}

function extractOptions(
  req: ScrapeRequest,
  plain: "json" | "text" | undefined,
  maxBytes: number,
): ExtractOptions {
  const wanted = wantedFormats(req.formats);
  return {
    text: plain !== undefined && wanted.markdown,
    raw: wanted.rawHtml,
    clean: wanted.markdown || wanted.html,
    links: wanted.links,
    images: wanted.images,
    storage: !req.zeroDataRetention,
    onlyMainContent: req.onlyMainContent,
    includeTags: req.includeTags ?? [],
    excludeTags: req.excludeTags ?? [],
    removeBase64Images: req.removeBase64Images,
    nonMainSelectors: NON_MAIN_SELECTORS,
    keepSelectors: MAIN_SELECTORS,
    base64Placeholder: BASE64_PLACEHOLDER,
    maxBytes,
  };
}

/**
 * Reads what the request wants from the page in one evaluate; if a script navigated the page
 * just then, waits for the new document and reads again. Past `maxBytes` only the size comes
 * back (`tooLarge`).
 *
 * The read runs in a world of its own (Page.createIsolatedWorld): the same DOM, but none of the
 * page's JavaScript, so a page that replaces built-ins (TextEncoder, Array.prototype) can neither
 * dodge the size bound nor change what is read.
 */
export async function readPage(
  page: Page,
  cdp: CDPSession,
  req: ScrapeRequest,
  response: Response | null,
  maxBytes: number,
): Promise<PageExtract> {
  const expression = pageCall(extractPage, extractOptions(req, plainTextType(response), maxBytes));
  try {
    return await evaluateIsolated(cdp, expression);
  } catch (err) {
    if (!/Execution context was destroyed|navigat|Cannot find context/i.test(String(err))) {
      throw err;
    }
    await page.waitForLoadState("load");
    return await evaluateIsolated(cdp, expression);
  }
}

async function evaluateIsolated(cdp: CDPSession, expression: string): Promise<PageExtract> {
  const { frameTree } = await cdp.send("Page.getFrameTree");
  const { executionContextId } = await cdp.send("Page.createIsolatedWorld", {
    frameId: frameTree.frame.id,
    worldName: "scrape-read",
  });
  const res = await cdp.send("Runtime.evaluate", {
    expression,
    contextId: executionContextId,
    returnByValue: true,
  });
  if (res.exceptionDetails) {
    const ex = res.exceptionDetails;
    throw new Error(`Reading the page failed: ${ex.exception?.description ?? ex.text}`);
  }
  return res.result.value as PageExtract;
}

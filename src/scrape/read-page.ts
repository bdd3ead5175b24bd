import type { Page, Response } from "playwright-core";
import { AppError } from "../errors/app-error.js";
import { wantedFormats } from "./formats.js";
import { MAIN_SELECTORS, NON_MAIN_SELECTORS } from "./main-content.js";
import type { ScrapeRequest } from "./request.js";
import { extractPage, type ExtractOptions, type PageExtract } from "./transforms/extract-page.js";
import { BASE64_PLACEHOLDER, toMarkdown } from "./transforms/markdown.js";
import { pageCall } from "../browser/page-call.js";

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
function plainTextType(response: Response | null): "json" | "text" | undefined {
  const type = response?.headers()["content-type"] ?? "";
  if (/^application\/([\w.+-]*\+)?json|^text\/json/i.test(type)) return "json";
  if (/^text\/plain/i.test(type)) return "text";
  return undefined;
}

/** The markdown for what readPage read: JSON in a fenced block as Firecrawl does, text as is. */
export function pageMarkdown(
  extract: PageExtract,
  req: ScrapeRequest,
  response: Response | null,
): string {
  const plain = plainTextType(response);
  if (extract.text !== undefined && plain === "json")
    return "```json\n" + extract.text.trim() + "\n```";
  if (extract.text !== undefined) return extract.text.trim();
  return toMarkdown(extract.cleanHtml ?? "", req.removeBase64Images);
}

function extractOptions(req: ScrapeRequest, plain: "json" | "text" | undefined): ExtractOptions {
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
  };
}

/**
 * Reads what the request wants from the page in one evaluate; if a script navigated the page
 * just then, waits for the new document and reads again.
 */
export async function readPage(
  page: Page,
  req: ScrapeRequest,
  response: Response | null,
): Promise<PageExtract> {
  const expression = pageCall(extractPage, extractOptions(req, plainTextType(response)));
  try {
    return (await page.evaluate(expression)) as PageExtract;
  } catch (err) {
    if (!/Execution context was destroyed|navigat/i.test(String(err))) throw err;
    await page.waitForLoadState("load");
    return (await page.evaluate(expression)) as PageExtract;
  }
}

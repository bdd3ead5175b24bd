import { z } from "zod";
import type { PageResult } from "./page-result.js";
import { fileUrl } from "../urls/public-urls.js";

const text = z.string().optional();

/**
 * What toDocument returns: its type, the API document's response and what the tests hold every
 * scrape answer to. The page's own <meta> tags make up most of `metadata`, by their names.
 */
export const scrapeDocumentSchema = z.object({
  markdown: text,
  html: text,
  rawHtml: text,
  links: z.array(z.string()).optional(),
  images: z.array(z.string()).optional(),
  screenshot: text.describe("A URL this server serves, or a data: URI under zeroDataRetention."),
  actions: z
    .object({
      screenshots: z.array(z.string()),
      scrapes: z.array(z.object({ url: z.string(), html: z.string() })),
      javascriptReturns: z.array(z.object({ type: z.string(), value: z.unknown() })),
      pdfs: z.array(z.string()),
    })
    .optional(),
  metadata: z
    .object({
      title: text,
      description: text,
      language: text,
      sourceURL: z.string().describe("The URL as requested."),
      url: z.string().describe("The final URL, after redirects."),
      statusCode: z.number().int(),
      contentType: text,
      scrapeId: z.string().uuid().describe("The id interact takes."),
      proxyUsed: z.literal("basic"),
      cacheState: z.enum(["hit", "miss"]),
      cachedAt: text,
      creditsUsed: z.number(),
    })
    .passthrough()
    .describe("Every other <meta> tag of the page is here too, by its name."),
});

/** Firecrawl's v2 document of one page. */
export type ScrapeDocument = z.infer<typeof scrapeDocumentSchema>;

/** POST /v2/scrape answer. */
export const scrapeResponseSchema = z.object({
  success: z.literal(true),
  data: scrapeDocumentSchema,
  scrape_id: z
    .string()
    .uuid()
    .optional()
    .describe("The scrape's id again, when the request's origin contains `website` (Firecrawl's)."),
});

export interface DocumentContext {
  sourceURL: string;
  scrapeId: string;
  cacheState: "hit" | "miss";
  /** When a cache hit was scraped. */
  cachedAt?: string;
  /** Where this server is reached, for screenshot URLs. */
  baseUrl: string;
  /** What the scrape cost (see price.ts). */
  creditsUsed: number;
}

/**
 * Firecrawl's v2 document for a page result. File URLs (screenshots, PDFs) are built here rather
 * than stored, so a cached result served under another address still links to this server.
 */
export function toDocument(r: PageResult, ctx: DocumentContext): ScrapeDocument {
  // Built without metadata first so that, as in Firecrawl, it comes last in the JSON.
  const doc = {} as ScrapeDocument;
  if (r.markdown !== undefined) doc.markdown = r.markdown;
  if (r.html !== undefined) doc.html = r.html;
  if (r.rawHtml !== undefined) doc.rawHtml = r.rawHtml;
  if (r.links !== undefined) doc.links = r.links;
  if (r.images !== undefined) doc.images = r.images;
  if (r.screenshot !== undefined) doc.screenshot = fileUrl(ctx.baseUrl, r.screenshot);
  if (r.actions) {
    doc.actions = {
      screenshots: r.actions.screenshots.map((s) => fileUrl(ctx.baseUrl, s)),
      scrapes: r.actions.scrapes,
      javascriptReturns: r.actions.javascriptReturns,
      pdfs: r.actions.pdfs.map((p) => fileUrl(ctx.baseUrl, p)),
    };
  }
  // Page <meta> first, so a tag named like one of our fields can never override it.
  doc.metadata = {
    ...r.metadata,
    sourceURL: ctx.sourceURL,
    url: r.finalUrl,
    statusCode: r.statusCode,
    ...(r.contentType ? { contentType: r.contentType } : {}),
    scrapeId: ctx.scrapeId,
    proxyUsed: "basic",
    cacheState: ctx.cacheState,
    ...(ctx.cachedAt ? { cachedAt: ctx.cachedAt } : {}),
    creditsUsed: ctx.creditsUsed,
  };
  return doc;
}

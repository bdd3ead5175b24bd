// The shapes a page load produces, on their own so that what caches and renders them
// (scrape-cache.ts, document.ts) need not import the browser code that makes them.

/** What actions produced, in Firecrawl's `data.actions` shape (screenshots and PDFs as files). */
export interface ActionOutputs {
  screenshots: string[];
  scrapes: { url: string; html: string }[];
  javascriptReturns: { type: string; value: unknown }[];
  pdfs: string[];
}

/** What one page load produced: the formats asked for plus page metadata. Cached as is. */
export interface PageResult {
  finalUrl: string;
  statusCode: number;
  contentType?: string;
  markdown?: string;
  html?: string;
  rawHtml?: string;
  links?: string[];
  images?: string[];
  /** A stored file's name, or a data: URI for zero-data-retention scrapes. */
  screenshot?: string;
  actions?: ActionOutputs;
  metadata: Record<string, unknown>;
}

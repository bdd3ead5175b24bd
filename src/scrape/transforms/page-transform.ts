import type { PageExtract } from "./extract-page.js";
import { toMarkdown } from "./markdown.js";
import { pageMetadata } from "./metadata.js";

/** The parts of a page read that the transforms use, and what to make of them. */
export interface TransformInput {
  page: Pick<PageExtract, "title" | "lang" | "favicon" | "metas" | "cleanHtml" | "text">;
  /** Set when markdown is wanted. `plain`: the page is JSON or plain text, not HTML. */
  markdown?: { plain?: "json" | "text"; removeBase64Images: boolean };
}

export interface TransformOutput {
  markdown?: string;
  metadata: Record<string, unknown>;
}

/**
 * Markdown and metadata for one page read. Runs in a worker thread (page-transforms.ts): turning
 * megabytes of HTML into markdown takes seconds of CPU that the event loop cannot spare.
 */
export default function transformPage(input: TransformInput): TransformOutput {
  const out: TransformOutput = { metadata: pageMetadata(input.page) };
  if (input.markdown) out.markdown = pageMarkdown(input.page, input.markdown);
  return out;
}

/** JSON in a fenced block as Firecrawl does, text as is, HTML through turndown. */
function pageMarkdown(
  page: TransformInput["page"],
  opts: NonNullable<TransformInput["markdown"]>,
): string {
  if (page.text !== undefined && opts.plain === "json") {
    return "```json\n" + page.text.trim() + "\n```";
  }
  if (page.text !== undefined) return page.text.trim();
  return toMarkdown(page.cleanHtml ?? "", opts.removeBase64Images);
}

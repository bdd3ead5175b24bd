import type { PageExtract } from "./extract-page.js";

/** Firecrawl's named metadata fields and the <meta> name or property each comes from. */
const NAMED: Record<string, string> = {
  description: "description",
  keywords: "keywords",
  robots: "robots",
  ogTitle: "og:title",
  ogDescription: "og:description",
  ogUrl: "og:url",
  ogImage: "og:image",
  ogAudio: "og:audio",
  ogDeterminer: "og:determiner",
  ogLocale: "og:locale",
  ogSiteName: "og:site_name",
  ogVideo: "og:video",
  dcTermsCreated: "dcterms.created",
  dcDateCreated: "dc.date.created",
  dcDate: "dc.date",
  dcTermsType: "dcterms.type",
  dcType: "dc.type",
  dcTermsAudience: "dcterms.audience",
  dcTermsSubject: "dcterms.subject",
  dcSubject: "dc.subject",
  dcDescription: "dc.description",
  dcTermsKeywords: "dcterms.keywords",
  modifiedTime: "article:modified_time",
  publishedTime: "article:published_time",
  articleTag: "article:tag",
  articleSection: "article:section",
};

/**
 * The page-derived part of Firecrawl's metadata: every <meta> tag under its own name (repeated
 * names become arrays), then the named fields (title, description, og*, ...) for those present.
 */
export function pageMetadata(
  page: Pick<PageExtract, "metas" | "title" | "lang" | "favicon">,
): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  const first = new Map<string, string>();
  const localeAlternates: string[] = [];
  for (const [name, content] of page.metas) {
    const prev = meta[name];
    if (prev === undefined) meta[name] = content;
    else if (Array.isArray(prev)) prev.push(content);
    else meta[name] = [prev, content];
    const lower = name.toLowerCase();
    if (!first.has(lower)) first.set(lower, content);
    if (lower === "og:locale:alternate") localeAlternates.push(content);
  }
  if (page.title.trim()) meta.title = page.title.trim();
  for (const [field, source] of Object.entries(NAMED)) {
    const value = first.get(source);
    if (value) meta[field] = value;
  }
  if (localeAlternates.length > 0) meta.ogLocaleAlternate = localeAlternates;
  if (page.lang) meta.language = page.lang;
  if (page.favicon) meta.favicon = page.favicon;
  return meta;
}

/**
 * The one page.evaluate that reads everything a scrape returns, so the page is asked once:
 * raw HTML, cleaned HTML (main content, include/exclude selectors, absolute URLs), links,
 * images, <meta> tags, and the storage for the replay context. It works on an inert copy of the
 * DOM (a document with no browsing context), so nothing it removes changes the live page and
 * copied <img> elements fetch nothing.
 *
 * Runs in the page: it must not reference anything outside itself.
 */
export interface ExtractOptions {
  /** Also read the body's text (for JSON and plain-text documents). */
  text: boolean;
  raw: boolean;
  clean: boolean;
  links: boolean;
  images: boolean;
  storage: boolean;
  onlyMainContent: boolean;
  includeTags: string[];
  excludeTags: string[];
  removeBase64Images: boolean;
  nonMainSelectors: string[];
  keepSelectors: string[];
  base64Placeholder: string;
  /** The most this read may return (UTF-8 bytes of its strings); past it only the size comes. */
  maxBytes: number;
}

export interface PageExtract {
  url: string;
  /** Changes when the page is replaced by a cross-document navigation. */
  timeOrigin: number;
  title: string;
  lang?: string;
  favicon?: string;
  metas: [string, string][];
  rawHtml?: string;
  text?: string;
  cleanHtml?: string;
  links?: string[];
  images?: string[];
  storage?: {
    origin: string;
    localStorage: Record<string, string>;
    sessionStorage: Record<string, string>;
  } | null;
  /**
   * Set, in bytes, when what was read is past `maxBytes`: then rawHtml, text, cleanHtml, links,
   * images and metas are left out, so that none of it crosses to the server.
   */
  tooLarge?: number;
}

export function extractPage(o: ExtractOptions): PageExtract {
  const base = document.baseURI;
  const abs = (u: string): string => {
    try {
      return new URL(u, base).href;
    } catch {
      return u;
    }
  };
  const out: PageExtract = {
    url: location.href,
    timeOrigin: performance.timeOrigin,
    title: document.title,
    metas: [],
  };
  if (document.documentElement.lang) out.lang = document.documentElement.lang;
  const icon =
    document.querySelector<HTMLLinkElement>('link[rel="icon" i]') ??
    document.querySelector<HTMLLinkElement>('link[rel*="icon" i]');
  if (icon && icon.getAttribute("href")) out.favicon = icon.href;
  for (const m of Array.from(document.querySelectorAll("meta"))) {
    const name = m.getAttribute("name") ?? m.getAttribute("property") ?? m.getAttribute("itemprop");
    const content = m.getAttribute("content");
    if (name && content !== null) out.metas.push([name, content]);
  }
  if (o.text) out.text = document.body?.innerText ?? "";
  if (o.raw) {
    const dt = document.doctype ? new XMLSerializer().serializeToString(document.doctype) : "";
    out.rawHtml = dt + document.documentElement.outerHTML;
  }

  const clean = (mainOnly: boolean): Element => {
    const doc = document.implementation.createHTMLDocument("");
    let root: Element;
    if (o.includeTags.length > 0) {
      root = doc.createElement("div");
      const taken: Element[] = [];
      for (const sel of o.includeTags) {
        for (const el of Array.from(document.querySelectorAll(sel))) {
          if (taken.some((t) => t.contains(el))) continue;
          taken.push(el);
          root.appendChild(doc.importNode(el, true));
        }
      }
      doc.body.appendChild(root);
    } else {
      root = doc.importNode(document.documentElement, true) as Element;
      doc.replaceChild(root, doc.documentElement);
    }
    for (const el of Array.from(
      root.querySelectorAll("script, style, noscript, meta, link, template, head"),
    )) {
      el.remove();
    }
    const comments = doc.createTreeWalker(root, NodeFilter.SHOW_COMMENT);
    const dead: Node[] = [];
    while (comments.nextNode()) dead.push(comments.currentNode);
    for (const c of dead) c.parentNode?.removeChild(c);
    for (const sel of o.excludeTags) {
      for (const el of Array.from(root.querySelectorAll(sel))) el.remove();
    }
    if (mainOnly) {
      const keep = o.keepSelectors.join(", ");
      for (const sel of o.nonMainSelectors) {
        for (const el of Array.from(root.querySelectorAll(sel))) {
          if (el.matches("html, body") || el.matches(keep) || el.querySelector(keep)) continue;
          // <header>/<footer> inside an article or main belong to that content (its title, byline).
          if (/^(HEADER|FOOTER)$/.test(el.tagName) && el.parentElement?.closest("article, main")) {
            continue;
          }
          el.remove();
        }
      }
    }
    return root;
  };

  if (o.clean || o.links || o.images) {
    let root = clean(o.onlyMainContent);
    if (o.onlyMainContent && !root.textContent?.trim() && !root.querySelector("img")) {
      root = clean(false); // main-content filtering left nothing: use the whole page
    }
    for (const img of Array.from(root.querySelectorAll("img[srcset]"))) {
      const candidates = (img.getAttribute("srcset") ?? "").split(",").map((c) => {
        const [url = "", size = "1x"] = c.trim().split(/\s+/);
        return { url, size: parseFloat(size) || 1, isX: size.endsWith("x") };
      });
      const src = img.getAttribute("src");
      if (src && candidates.every((c) => c.isX)) candidates.push({ url: src, size: 1, isX: true });
      candidates.sort((a, b) => b.size - a.size);
      if (candidates[0]?.url) img.setAttribute("src", candidates[0].url);
    }
    for (const el of Array.from(root.querySelectorAll("[href]"))) {
      el.setAttribute("href", abs(el.getAttribute("href")!));
    }
    for (const attr of ["src", "poster"]) {
      for (const el of Array.from(root.querySelectorAll(`[${attr}]`))) {
        const v = el.getAttribute(attr)!;
        if (!/^data:/i.test(v)) el.setAttribute(attr, abs(v));
      }
    }
    for (const el of Array.from(root.querySelectorAll("[srcset]"))) {
      const v = el.getAttribute("srcset")!;
      if (o.removeBase64Images && /data:image\//i.test(v)) el.removeAttribute("srcset");
      else {
        const parts = v.split(",").map((p) => p.trim().split(/\s+/));
        el.setAttribute(
          "srcset",
          parts.map(([u = "", ...d]) => [abs(u), ...d].join(" ")).join(", "),
        );
      }
    }
    if (o.removeBase64Images) {
      for (const img of Array.from(root.querySelectorAll("img[src]"))) {
        if (/^data:image\//i.test(img.getAttribute("src")!)) {
          img.setAttribute("src", o.base64Placeholder);
        }
      }
    }
    if (o.links) {
      const links = new Set<string>();
      for (const a of Array.from(root.querySelectorAll("a[href]"))) {
        const href = a.getAttribute("href")!;
        if (/^(https?|mailto):/i.test(href)) links.add(href);
      }
      out.links = Array.from(links);
    }
    if (o.images) {
      const images = new Set<string>();
      const add = (u: string | null) => {
        if (u && u !== o.base64Placeholder) images.add(u);
      };
      for (const img of Array.from(root.querySelectorAll("img[src]"))) add(img.getAttribute("src"));
      for (const s of Array.from(root.querySelectorAll("source[srcset]"))) {
        add((s.getAttribute("srcset") ?? "").split(",")[0]!.trim().split(/\s+/)[0] ?? null);
      }
      for (const v of Array.from(root.querySelectorAll("video[poster]")))
        add(v.getAttribute("poster"));
      out.images = Array.from(images);
    }
    if (o.clean) out.cleanHtml = root.outerHTML;
  }

  // Sizes in UTF-8 bytes; a string's length is a floor of that and three times it a ceiling.
  const read = (): string[] => [
    out.title,
    out.rawHtml ?? "",
    out.text ?? "",
    out.cleanHtml ?? "",
    ...(out.links ?? []),
    ...(out.images ?? []),
    ...out.metas.flat(),
  ];
  let units = 0;
  for (const s of read()) units += s.length;
  if (units * 3 > o.maxBytes) {
    const utf8 = new TextEncoder();
    let bytes = 0;
    for (const s of read()) bytes += utf8.encode(s).length;
    if (bytes > o.maxBytes) {
      out.tooLarge = bytes;
      out.metas = [];
      delete out.rawHtml;
      delete out.text;
      delete out.cleanHtml;
      delete out.links;
      delete out.images;
    }
  }

  if (o.storage) {
    try {
      const dump = (s: Storage) => {
        const r: Record<string, string> = {};
        for (let i = 0; i < s.length; i++) {
          const k = s.key(i);
          if (k !== null) r[k] = s.getItem(k) ?? "";
        }
        return r;
      };
      out.storage =
        location.origin === "null"
          ? null
          : {
              origin: location.origin,
              localStorage: dump(localStorage),
              sessionStorage: dump(sessionStorage),
            };
    } catch {
      out.storage = null; // storage disabled or an opaque origin
    }
  }
  return out;
}

/**
 * The reference's sections, in the order it shows them. Their own module so that a route's
 * declaration (route-doc.ts) and the document built from it (document.ts) both read them.
 */
export const TAGS = {
  Scraping: "Load a page in Chromium and get clean content back, plus a scrape id for interact.",
  Interact: "Code or a prompt in a live browser session at a scrape's page state.",
  "Browser sessions": "Standalone browser sessions on a blank page (Firecrawl's browser API).",
  Team: "The caller's team.",
  Dashboard: "The page at / and the sessions list it shows.",
  Files: "Screenshots and PDFs that scrape responses link to, and files sessions downloaded.",
  "Live view": "Pages that show a session's browser, read-only or interactive.",
  Health: "Probes for load balancers and orchestrators.",
  Metrics: "Prometheus metrics.",
  Documentation: "This document.",
} as const;

/** A section of the reference. */
export type Tag = keyof typeof TAGS;

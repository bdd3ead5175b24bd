import { randomBytes } from "node:crypto";
import fs from "node:fs";
import type { LiveViewMode } from "../protocol.js";

/** The script and style of the viewer page, read once on first use and inlined in every page. */
let assets: { script: string; style: string } | undefined;

function loadAssets() {
  const read = (name: string) => fs.readFileSync(new URL(name, import.meta.url), "utf8");
  return (assets ??= { script: read("./viewer.js"), style: read("./viewer.css") });
}

export interface RenderedPage {
  html: string;
  /** Headers the page must be served with: CSP bound to this page's nonce, embedding allowed. */
  headers: Record<string, string>;
}

/**
 * The live-view page for one mode. It loads nothing from elsewhere: its script and style are
 * inline, allowed by a per-response nonce, and the only connection it may open is to this origin.
 * Any page may frame it (that is what the URL is for): no X-Frame-Options, no frame-ancestors.
 */
export function renderViewerPage(mode: LiveViewMode): RenderedPage {
  const { script, style } = loadAssets();
  const nonce = randomBytes(16).toString("base64");
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Live view</title>
<style nonce="${nonce}">${style}</style>
</head>
<body data-mode="${mode}" data-state="connecting">
<div id="stage" tabindex="0"><canvas id="screen" width="0" height="0"></canvas></div>
<div id="status" role="status" aria-live="polite">Connecting…</div>
<div id="banner" hidden>This browser session has ended.</div>
<script nonce="${nonce}">${script}</script>
</body>
</html>
`;
  return {
    html,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      "content-security-policy": [
        "default-src 'none'",
        `script-src 'nonce-${nonce}'`,
        `style-src 'nonce-${nonce}'`,
        "img-src blob: data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        // No frame-ancestors on purpose: even `*` would refuse file:// and sandboxed embedders.
      ].join("; "),
    },
  };
}

/** The page for an unknown or expired token: plain, and no hint whether the token ever existed. */
export const NOT_FOUND_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>
<body><h1>404 Not Found</h1><p>This live view does not exist or has ended.</p></body></html>
`;

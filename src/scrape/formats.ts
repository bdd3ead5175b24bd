import type { ScrapeRequest } from "./request.js";

export interface ScreenshotOptions {
  fullPage: boolean;
  quality?: number;
  viewport?: { width: number; height: number };
}

/** The outputs a request asked for, whatever spelling of `formats` it used. */
export interface WantedFormats {
  markdown: boolean;
  html: boolean;
  rawHtml: boolean;
  links: boolean;
  images: boolean;
  screenshot?: ScreenshotOptions;
}

/** Collapses `formats` (already one object per entry, see request-formats.ts) into one shape. */
export function wantedFormats(formats: ScrapeRequest["formats"]): WantedFormats {
  const wanted: WantedFormats = {
    markdown: false,
    html: false,
    rawHtml: false,
    links: false,
    images: false,
  };
  for (const f of formats) {
    if (f.type === "screenshot") {
      wanted.screenshot = { fullPage: f.fullPage, quality: f.quality, viewport: f.viewport };
    } else wanted[f.type] = true;
  }
  return wanted;
}

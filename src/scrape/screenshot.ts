import type { Page } from "playwright-core";
import type { FileStore } from "../files/file-store.js";
import type { Deadline } from "../deadline/deadline.js";
import type { ScreenshotOptions } from "./formats.js";

/** Where a screenshot or PDF goes: a stored file served by URL, or inline when nothing is kept. */
export type ScreenshotSink = { kind: "file"; files: FileStore } | { kind: "inline" };

/**
 * Takes a screenshot (JPEG when a quality is given, else PNG) and returns a stored file's name,
 * or a data: URI for zero-data-retention scrapes.
 */
export async function takeScreenshot(
  page: Page,
  opts: ScreenshotOptions,
  sink: ScreenshotSink,
  deadline: Deadline,
): Promise<string> {
  if (opts.viewport) await page.setViewportSize(opts.viewport);
  const type = opts.quality === undefined ? "png" : "jpeg";
  const bytes = await page.screenshot({
    type,
    quality: opts.quality,
    fullPage: opts.fullPage,
    timeout: deadline.remaining(),
  });
  if (sink.kind === "inline") return `data:image/${type};base64,${bytes.toString("base64")}`;
  return sink.files.save(bytes, type);
}

import type { Page } from "playwright-core";
import type { Action } from "./request.js";
import type { ScreenshotSink } from "./screenshot.js";

export type PdfAction = Extract<Action, { type: "pdf" }>;

/**
 * Prints the page as it is now to a PDF (Chromium's print-to-PDF, print media and the page's
 * backgrounds) and returns a stored file's name, or a data: URI when nothing may be kept.
 * page.pdf takes no timeout: closing the context on the deadline is what stops it.
 */
export async function printPdf(
  page: Page,
  action: PdfAction,
  sink: ScreenshotSink,
): Promise<string> {
  const bytes = await page.pdf({
    format: action.format,
    landscape: action.landscape,
    scale: action.scale,
    printBackground: true,
  });
  if (sink.kind === "inline") return `data:application/pdf;base64,${bytes.toString("base64")}`;
  return sink.files.save(bytes, "pdf");
}

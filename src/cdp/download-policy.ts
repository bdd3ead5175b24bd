/**
 * Where a browser's downloads go, whoever asks otherwise. Every CDP client (the server's own
 * Playwright, a tenant's Playwright or Puppeteer, agent-browser, a raw client) may set how its
 * browser downloads; the mux passes each setting on with the folder replaced by the one the
 * server keeps downloads from, under names Chromium generates (the download's guid), so that a
 * name from a page never becomes a path. A client may still refuse downloads ("deny").
 */

/** What the mux does with a client's download setting. */
export type DownloadCommand =
  | { forward: Record<string, unknown> }
  /** Answered `{}` without reaching the browser: the browser-wide setting already holds. */
  | { answer: true };

/** Methods that set where downloads go. */
export const DOWNLOAD_METHODS = new Set([
  "Browser.setDownloadBehavior",
  "Page.setDownloadBehavior",
]);

/** The setting the browser gets instead of `params` of `method`. */
export function downloadCommand(
  method: string,
  params: Record<string, unknown> | undefined,
  dir: string,
): DownloadCommand {
  const behavior = params?.behavior;
  if (method === "Page.setDownloadBehavior") {
    // The page-level setting keeps the page's name for the file: only a refusal goes through.
    return behavior === "deny" ? { forward: { behavior: "deny" } } : { answer: true };
  }
  if (behavior === "deny") return { forward: { ...params, downloadPath: undefined } };
  return { forward: { ...params, behavior: "allowAndName", downloadPath: dir } };
}

/** The setting the server puts back on a context a departed client had set (or a new one). */
export function keptDownloads(dir: string, browserContextId?: string): Record<string, unknown> {
  return {
    method: "Browser.setDownloadBehavior",
    params: { behavior: "allowAndName", downloadPath: dir, browserContextId },
  };
}

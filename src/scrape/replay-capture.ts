import type { Cookie } from "playwright-core";
import type { PageSettings } from "../page-state/page-state.js";
import type { Action } from "./request.js";
import type { ReplayContext, ReplayCookie } from "../page-state/replay-context.js";
import type { PageExtract } from "./transforms/extract-page.js";

/** Cookies as a session restores them; Playwright-only fields (partition keys) are dropped. */
export function replayCookies(cookies: Cookie[]): ReplayCookie[] {
  return cookies.map((c) => ({
    name: c.name,
    value: c.value,
    domain: c.domain,
    path: c.path,
    expires: c.expires,
    httpOnly: c.httpOnly,
    secure: c.secure,
    sameSite: c.sameSite,
  }));
}

export interface ReplayCapture {
  setup: PageSettings;
  loadedUrl: string;
  /** performance.timeOrigin right after the initial load, to spot later document changes. */
  loadedTimeOrigin: number;
  page: PageExtract;
  cookies: Cookie[];
  actions: Action[] | undefined;
}

/** Everything a session needs to put a browser back at this scrape's page state. */
export function buildReplayContext(c: ReplayCapture): ReplayContext {
  const replay: ReplayContext = {
    version: 1,
    finalUrl: c.page.url,
    loadedUrl: c.loadedUrl,
    ...c.setup,
    cookies: replayCookies(c.cookies),
    storage: c.page.storage ?? null,
    actions: c.actions ?? [],
  };
  if (c.actions && c.actions.length > 0) {
    replay.actionsNavigated = c.page.timeOrigin !== c.loadedTimeOrigin;
  }
  return replay;
}

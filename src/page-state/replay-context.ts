import type { PageSettings } from "./page-state.js";

/**
 * What we keep of a scrape so that a live session can be put back at the same page state.
 * Stored as JSON with the scrape record; never stored for zeroDataRetention scrapes. How the page
 * was set up before it loaded (headers, device, locale, TLS, ad blocking) is its PageSettings part.
 */
export interface ReplayContext extends PageSettings {
  version: 1;
  /** The URL the page was at when the scrape finished (after redirects and actions). */
  finalUrl: string;
  /** The URL after the initial load, before any action ran. */
  loadedUrl: string;
  cookies: ReplayCookie[];
  /** localStorage and sessionStorage of the final page's origin. */
  storage: {
    origin: string;
    localStorage: Record<string, string>;
    sessionStorage: Record<string, string>;
  } | null;
  /** Actions the scrape ran, in order (screenshots and scrapes included, for the record). */
  actions: unknown[];
  /**
   * True when the page was replaced by another document while the actions ran (a link was
   * followed, a form submitted). Replaying the actions from loadedUrl would then not land on
   * the same state, so a restore goes to finalUrl instead. Absent when no action ran.
   */
  actionsNavigated?: boolean;
}

/** A cookie in the shape Playwright's addCookies accepts. */
export interface ReplayCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  expires: number;
  httpOnly: boolean;
  secure: boolean;
  sameSite: "Strict" | "Lax" | "None";
}

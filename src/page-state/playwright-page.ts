import type { CDPSession } from "playwright-core";
import { tolerateAlreadySet } from "../chromium/page-preparer.js";
import type { PageState } from "./page-state.js";

type Send = (method: string, params?: object) => Promise<unknown>;

/**
 * Sends a PageState's page commands over a CDP session on a page whose context Playwright
 * created from contextOptions (a scrape's), and answers the events they cause. What they set
 * lasts while `cdp` stays attached.
 */
export async function applyToPage(cdp: CDPSession, state: PageState): Promise<void> {
  const send = cdp.send.bind(cdp) as unknown as Send;
  const on = cdp.on.bind(cdp) as unknown as (event: string, fn: (params: object) => void) => void;
  const onEvent = state.onEvent;
  if (onEvent) {
    for (const event of state.events) {
      on(event, (params) =>
        onEvent(event, params as Record<string, unknown>, (method, p) => {
          send(method, p).catch(() => {}); // the page may be gone
        }),
      );
    }
  }
  await Promise.all(
    state.pageCommands.map((c) => send(c.method, c.params).catch(tolerateAlreadySet(c))),
  );
}

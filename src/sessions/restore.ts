import { PagePreparer } from "../browser/page-preparer.js";
import { pageState, sessionSetup } from "../page-state/page-state.js";
import { runActions } from "../scrape/actions.js";
import { Deadline } from "../scrape/deadline.js";
import type { ReplayContext } from "../page-state/replay-context.js";
import type { Action } from "../scrape/request.js";
import type { SessionResources } from "./resources.js";

/** Actions that change the page without producing output; the ones worth replaying. */
const REPLAYABLE = new Set(["wait", "click", "write", "press", "scroll", "executeJavascript"]);

/** Source of a one-shot script that puts the scrape's storage back before the page's own code runs. */
function storageScript(storage: NonNullable<ReplayContext["storage"]>): string {
  return `(() => {
    if (location.origin !== ${JSON.stringify(storage.origin)}) return;
    const put = (area, items) => { for (const [k, v] of Object.entries(items)) area.setItem(k, v); };
    try { put(localStorage, ${JSON.stringify(storage.localStorage)}); } catch {}
    try { put(sessionStorage, ${JSON.stringify(storage.sessionStorage)}); } catch {}
  })();`;
}

/**
 * Puts a fresh browser back at the scrape's state: every page it opens set up as the scrape's
 * was (page-state, for the browser's life), cookies and storage, then the navigation, then the
 * scrape's page-changing actions when they did not navigate away. Every step ends by deadlineAt;
 * a call left hanging dies with the browser that the failed restore gives back.
 */
export async function restoreReplayContext(
  resources: Pick<SessionResources, "proc" | "context" | "page" | "cdp">,
  rc: ReplayContext,
  deadlineAt: number,
): Promise<void> {
  const { context, page, cdp } = resources;
  const left = () => Math.max(1_000, deadlineAt - Date.now());
  const bounded = <T>(what: string, p: Promise<T>) => within(p, deadlineAt, what);
  await PagePreparer.start(resources.proc.cdp, sessionSetup(pageState(rc)), left());
  if (rc.cookies.length > 0) await bounded("adding cookies", context.addCookies(rc.cookies));

  // Older records lack actionsNavigated; for them a changed URL is the best sign of navigation.
  const navigated = rc.actionsNavigated ?? rc.loadedUrl !== rc.finalUrl;
  const replayActions = navigated ? [] : rc.actions.filter(isReplayable);
  const target = replayActions.length > 0 ? rc.loadedUrl : rc.finalUrl;

  let scriptId: string | undefined;
  if (rc.storage) {
    // Scripts for new documents only take effect with the Page domain enabled on this session.
    await bounded("enabling the page domain", cdp.send("Page.enable"));
    const added = await bounded(
      "adding the storage script",
      cdp.send("Page.addScriptToEvaluateOnNewDocument", { source: storageScript(rc.storage) }),
    );
    scriptId = added.identifier;
  }
  try {
    await page.goto(target, { timeout: left(), waitUntil: "load" });
  } finally {
    if (scriptId) {
      const remove = cdp.send("Page.removeScriptToEvaluateOnNewDocument", { identifier: scriptId });
      await bounded("removing the storage script", remove);
    }
  }
  if (replayActions.length > 0) {
    // The scrape's own action runner, so a replayed action behaves exactly as it did then.
    const deadline = new Deadline(left(), new AbortController().signal, target);
    try {
      await runActions(page, replayActions, deadline, { kind: "inline" });
    } finally {
      deadline.dispose();
    }
  }
}

/** Settles as p does, or fails at deadlineAt naming the step that ran out of time. */
function within<T>(p: Promise<T>, deadlineAt: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    const ms = Math.max(0, deadlineAt - Date.now());
    timer = setTimeout(() => reject(new Error(`restore: ${what} took past the deadline`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function isReplayable(a: unknown): a is Action {
  return typeof a === "object" && a !== null && REPLAYABLE.has((a as Action).type);
}

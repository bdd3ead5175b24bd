import { PagePreparer } from "../chromium/page-preparer.js";
import { pageState, sessionSetup } from "../page-state/page-state.js";
import { runActions } from "../scrape/actions.js";
import { Deadline } from "../deadline/deadline.js";
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
 * scrape's page-changing actions when they did not navigate away. Every step ends within timeoutMs;
 * a call left hanging dies with the browser that the failed restore gives back.
 */
export async function restoreReplayContext(
  resources: Pick<SessionResources, "proc" | "context" | "page" | "cdp">,
  rc: ReplayContext,
  timeoutMs: number,
): Promise<void> {
  const { context, page, cdp } = resources;
  const deadline = new Deadline(timeoutMs, {
    stage: "preparing the page",
    timeoutError: (d) => new Error(`restore: ${d.stage} took past the deadline`),
  });
  // Each step is raced against the deadline; a call left hanging dies with the browser that a
  // failed restore gives back.
  const step = <T>(stage: string, p: () => Promise<T>) => {
    deadline.stage = stage;
    return deadline.race(p());
  };
  try {
    await step("preparing the page", () =>
      PagePreparer.start(resources.proc.cdp, sessionSetup(pageState(rc)), deadline.remaining()),
    );
    if (rc.cookies.length > 0) await step("adding cookies", () => context.addCookies(rc.cookies));

    // Older records lack actionsNavigated; for them a changed URL is the best sign of navigation.
    const navigated = rc.actionsNavigated ?? rc.loadedUrl !== rc.finalUrl;
    const replayActions = navigated ? [] : rc.actions.filter(isReplayable);
    const target = replayActions.length > 0 ? rc.loadedUrl : rc.finalUrl;

    let scriptId: string | undefined;
    if (rc.storage) {
      const source = storageScript(rc.storage);
      // Scripts for new documents only take effect with the Page domain enabled on this session.
      await step("enabling the page domain", () => cdp.send("Page.enable"));
      const added = await step("adding the storage script", () =>
        cdp.send("Page.addScriptToEvaluateOnNewDocument", { source }),
      );
      scriptId = added.identifier;
    }
    try {
      await step("loading the page", () =>
        page.goto(target, { timeout: deadline.remaining(), waitUntil: "load" }),
      );
    } finally {
      if (scriptId) {
        const identifier = scriptId;
        await step("removing the storage script", () =>
          cdp.send("Page.removeScriptToEvaluateOnNewDocument", { identifier }),
        );
      }
    }
    // The scrape's own action runner, so a replayed action behaves exactly as it did then.
    if (replayActions.length > 0) {
      await runActions(page, replayActions, deadline, { kind: "inline" });
    }
  } finally {
    deadline.dispose();
  }
}

function isReplayable(a: unknown): a is Action {
  return typeof a === "object" && a !== null && REPLAYABLE.has((a as Action).type);
}

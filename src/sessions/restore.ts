import type { BrowserContext, CDPSession, Page } from "playwright-core";
import { runActions } from "../scrape/actions.js";
import { Deadline } from "../scrape/deadline.js";
import type { ReplayContext } from "../scrape/replay-context.js";
import type { Action } from "../scrape/request.js";

/** Actions that change the page without producing output; the ones worth replaying. */
const REPLAYABLE = new Set(["wait", "click", "write", "press", "scroll", "executeJavascript"]);

/**
 * Applies to a page everything a CDP session must keep asserting for the page to look like the
 * scrape's: viewport, mobile, locale, timezone, user agent. Lives as long as `cdp` stays attached.
 */
export async function applyEmulation(cdp: CDPSession, rc: ReplayContext): Promise<void> {
  await cdp.send("Emulation.setDeviceMetricsOverride", {
    width: rc.viewport.width,
    height: rc.viewport.height,
    deviceScaleFactor: 1, // as the scrape had it
    mobile: rc.mobile,
  });
  if (rc.mobile) await cdp.send("Emulation.setTouchEmulationEnabled", { enabled: true });
  if (rc.timezoneId) await cdp.send("Emulation.setTimezoneOverride", { timezoneId: rc.timezoneId });
  if (rc.locale) await cdp.send("Emulation.setLocaleOverride", { locale: rc.locale });
  if (rc.userAgent || rc.locale) {
    const userAgent =
      rc.userAgent ??
      ((await cdp.send("Browser.getVersion")) as { userAgent: string }).userAgent.replace(
        "HeadlessChrome",
        "Chrome",
      );
    await cdp.send("Emulation.setUserAgentOverride", {
      userAgent,
      ...(rc.locale ? { acceptLanguage: (rc.languages ?? [rc.locale]).join(",") } : {}),
    });
  }
}

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
 * Puts a fresh page back at the scrape's state: headers, cookies and storage first, then the
 * navigation, then the scrape's page-changing actions when they did not navigate away.
 */
export async function restoreReplayContext(
  context: BrowserContext,
  page: Page,
  cdp: CDPSession,
  rc: ReplayContext,
  deadlineAt: number,
): Promise<void> {
  const left = () => Math.max(1_000, deadlineAt - Date.now());
  if (Object.keys(rc.headers).length > 0) await context.setExtraHTTPHeaders(rc.headers);
  if (rc.cookies.length > 0) await context.addCookies(rc.cookies);
  await applyEmulation(cdp, rc);

  // Older records lack actionsNavigated; for them a changed URL is the best sign of navigation.
  const navigated = rc.actionsNavigated ?? rc.loadedUrl !== rc.finalUrl;
  const replayActions = navigated ? [] : rc.actions.filter(isReplayable);
  const target = replayActions.length > 0 ? rc.loadedUrl : rc.finalUrl;

  let scriptId: string | undefined;
  if (rc.storage) {
    // Scripts for new documents only take effect with the Page domain enabled on this session.
    await cdp.send("Page.enable");
    const added = (await cdp.send("Page.addScriptToEvaluateOnNewDocument", {
      source: storageScript(rc.storage),
    })) as { identifier: string };
    scriptId = added.identifier;
  }
  try {
    await page.goto(target, { timeout: left(), waitUntil: "load" });
  } finally {
    if (scriptId)
      await cdp.send("Page.removeScriptToEvaluateOnNewDocument", { identifier: scriptId });
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

function isReplayable(a: unknown): a is Action {
  return typeof a === "object" && a !== null && REPLAYABLE.has((a as Action).type);
}

import type { Page } from "playwright-core";
import { AppError } from "../errors/app-error.js";
import type { Deadline } from "../deadline/deadline.js";
import type { Action } from "./request.js";
import { printPdf } from "./pdf.js";
import { takeScreenshot, type ScreenshotSink } from "./screenshot.js";
import { toPageExpression } from "./script.js";
import type { ActionOutputs } from "./page-result.js";

/**
 * How long click and scroll wait for their element. Pages that render late usually do so within
 * a few seconds; waiting the whole budget would turn a mistyped selector into a timeout. A wait
 * action with the selector waits longer.
 */
const ELEMENT_WAIT_MS = 5_000;

/** The page's current HTML, serialized like page.content() but without its extra world. */
export function pageHtml(page: Page): Promise<string> {
  return page.evaluate(
    "(document.doctype ? new XMLSerializer().serializeToString(document.doctype) : '') + " +
      "document.documentElement.outerHTML",
  ) as Promise<string>;
}

/** Runs the actions in order; a failing action stops the scrape with an error naming it. */
export async function runActions(
  page: Page,
  actions: Action[],
  deadline: Deadline,
  sink: ScreenshotSink,
): Promise<ActionOutputs> {
  const out: ActionOutputs = { screenshots: [], scrapes: [], javascriptReturns: [], pdfs: [] };
  for (const [i, action] of actions.entries()) {
    deadline.stage = `running action ${i} (${action.type})`;
    try {
      await runAction(page, action, deadline, sink, out);
    } catch (err) {
      const waitedOut = action.type === "wait" && isTimeout(err);
      throw (
        deadline.abortError() ?? (waitedOut ? deadline.timeoutError() : actionError(i, action, err))
      );
    }
  }
  return out;
}

async function runAction(
  page: Page,
  action: Action,
  deadline: Deadline,
  sink: ScreenshotSink,
  out: ActionOutputs,
): Promise<void> {
  const elementWait = () => Math.min(ELEMENT_WAIT_MS, deadline.remaining());
  switch (action.type) {
    case "wait":
      if (action.selector !== undefined) {
        await page.waitForSelector(action.selector, {
          state: "attached",
          timeout: deadline.remaining(),
        });
      } else {
        await deadline.sleep(action.milliseconds ?? 0);
      }
      return;
    case "click": {
      const matches = page.locator(action.selector);
      await matches.first().waitFor({ state: "attached", timeout: elementWait() });
      const targets = action.all ? await matches.all() : [matches.first()];
      for (const t of targets) await t.click({ timeout: elementWait() });
      await settle(page, deadline);
      return;
    }
    case "write":
      await page.keyboard.type(action.text);
      return;
    case "press":
      await page.keyboard.press(action.key);
      await settle(page, deadline);
      return;
    case "scroll": {
      if (action.selector !== undefined) {
        await page.locator(action.selector).first().waitFor({
          state: "attached",
          timeout: elementWait(),
        });
      }
      await page.evaluate(
        ({ selector, sign }) => {
          const el = selector === null ? null : document.querySelector(selector);
          if (el) el.scrollBy(0, sign * (el.clientHeight || window.innerHeight));
          else window.scrollBy(0, sign * window.innerHeight);
          // Scroll events fire with the next frame: let the page's handlers see this one.
          return new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
        },
        { selector: action.selector ?? null, sign: action.direction === "up" ? -1 : 1 },
      );
      return;
    }
    case "screenshot":
      out.screenshots.push(await takeScreenshot(page, action, sink, deadline));
      return;
    case "scrape":
      out.scrapes.push({ url: page.url(), html: await pageHtml(page) });
      return;
    case "executeJavascript": {
      const value: unknown = await page.evaluate(toPageExpression(action.script));
      out.javascriptReturns.push({ type: value === null ? "null" : typeof value, value });
      return;
    }
    case "pdf":
      out.pdfs.push(await printPdf(page, action, sink));
      return;
  }
}

/** How long a click or key press is given to start a navigation (a form submit, a link). */
const NAVIGATION_START_MS = 150;

/**
 * Lets what a click or key press set off take effect: a navigation it started (a submitted form)
 * is waited for until its page has loaded. The input returns before the navigation begins, so
 * waiting for "load" alone would see the old page, already loaded.
 */
async function settle(page: Page, deadline: Deadline): Promise<void> {
  // Whether or not one started: a navigation that committed before we listened is caught below.
  await page
    .waitForEvent("framenavigated", {
      predicate: (f) => f === page.mainFrame(),
      timeout: Math.min(NAVIGATION_START_MS, deadline.remaining()),
    })
    .catch(() => undefined);
  await page.waitForLoadState("load", { timeout: deadline.remaining() });
}

/** Playwright's own timeout, as opposed to any other failure. */
export function isTimeout(err: unknown): boolean {
  return err instanceof Error && err.name === "TimeoutError";
}

/** A 400 naming the action and, in one line, what went wrong. */
function actionError(index: number, action: Action, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  let reason = raw
    .split("\n")[0]!
    .replace(/^[a-zA-Z.]+: /, "")
    .trim();
  if (isTimeout(err) && (action.type === "click" || action.type === "scroll")) {
    reason = `no usable element matched "${action.selector}" within ${ELEMENT_WAIT_MS} ms`;
  }
  const message = `Action ${index} (${action.type}) failed: ${reason}`;
  return new AppError("BAD_REQUEST", message, [{ path: `actions.${index}`, message }]);
}

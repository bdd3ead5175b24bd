import type { Browser, BrowserContext } from "playwright-core";
import { ChromiumNotFoundError } from "../chromium/find-chromium.js";
import { AppError } from "../errors/app-error.js";
import type { FileStore } from "../files/file-store.js";
import { isTimeout, runActions } from "./actions.js";
import { serverFault } from "./fault.js";
import type { Deadline } from "../deadline/deadline.js";
import type { EgressProxy } from "../network/egress-proxy.js";
import { pageState } from "../page-state/page-state.js";
import { applyToPage } from "../page-state/playwright-page.js";
import { wantedFormats } from "./formats.js";
import { hostOf } from "./navigation-errors.js";
import { navigate } from "./navigate.js";
import { pageSettings } from "./page-setup.js";
import { checkSelectors, plainTextType, readPage } from "./read-page.js";
import { buildReplayContext } from "./replay-capture.js";
import type { ReplayContext } from "../page-state/replay-context.js";
import type { ScrapeRequest } from "./request.js";
import type { OpenProfile } from "../profiles/service.js";
import { takeScreenshot, type ScreenshotSink } from "./screenshot.js";
import { pageTooLarge, type PageTransforms } from "./transforms/page-transforms.js";
import type { PageResult } from "./page-result.js";

export interface BrowserScrapeDeps {
  /** The scrape browser, and the egress proxy all of its traffic goes through. */
  browser: { get(): Promise<Browser>; readonly egress: EgressProxy };
  files: FileStore;
  /** Markdown and metadata, made off the event loop. */
  transforms: PageTransforms;
  /** The most one scrape reads from its page (SCRAPE_MAX_PAGE_MB), in bytes. */
  maxPageBytes: number;
}

/** Loads the page in a fresh context of the shared browser and reads what the request wants. */
export async function scrapeInBrowser(
  deps: BrowserScrapeDeps,
  req: ScrapeRequest,
  deadline: Deadline,
  /** A named profile: the context starts from its state, and saves back once all is read. */
  profile?: OpenProfile,
): Promise<{ result: PageResult; replay: ReplayContext | null }> {
  deps.transforms.warm();
  const browser = await getBrowser(deps);
  deadline.check();
  const proxy = deps.browser.egress;
  let context: BrowserContext | undefined;
  // Closing the context makes every pending call on it fail at once: that is how we stop.
  const stop = () => void context?.close().catch(() => {});
  deadline.signal.addEventListener("abort", stop);
  try {
    const settings = pageSettings(req, browser.version());
    const state = pageState(settings);
    context = await browser.newContext({ ...state.contextOptions, acceptDownloads: false });
    if (profile) {
      deadline.stage = "loading the profile";
      await deadline.race(profile.apply(context));
    }
    deadline.check();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await Promise.all([applyToPage(cdp, state), checkSelectors(page, req)]);

    deadline.stage = "loading the page";
    const response = await navigate(page, req, deadline, proxy);
    const loadedUrl = page.url();
    const loadedTimeOrigin = req.actions?.length
      ? ((await page.evaluate("performance.timeOrigin")) as number)
      : 0;
    if (req.waitFor > 0) {
      deadline.stage = `waiting ${req.waitFor} ms (waitFor)`;
      await deadline.sleep(req.waitFor);
    }
    const sink: ScreenshotSink = req.zeroDataRetention
      ? { kind: "inline" }
      : { kind: "file", files: deps.files };
    const actions = req.actions?.length
      ? await runActions(page, req.actions, deadline, sink)
      : undefined;

    deadline.stage = "reading the page";
    const wanted = wantedFormats(req.formats);
    const shot = wanted.screenshot;
    const [extract, cookies, parallelShot] = await Promise.all([
      readPage(page, cdp, req, response, deps.maxPageBytes),
      req.zeroDataRetention ? [] : context.cookies(),
      // A screenshot with its own viewport reflows the page, so it waits for the read.
      shot && !shot.viewport ? takeScreenshot(page, shot, sink, deadline) : undefined,
    ]);
    if (extract.tooLarge !== undefined) throw pageTooLarge(extract.tooLarge, deps.maxPageBytes);
    const screenshot = shot?.viewport
      ? await takeScreenshot(page, shot, sink, deadline)
      : parallelShot;
    deadline.stage = "converting the page";
    const converted = await deps.transforms.run(
      {
        page: {
          title: extract.title,
          lang: extract.lang,
          favicon: extract.favicon,
          metas: extract.metas,
          cleanHtml: wanted.markdown ? extract.cleanHtml : undefined,
          text: extract.text,
        },
        markdown: wanted.markdown
          ? { plain: plainTextType(response), removeBase64Images: req.removeBase64Images }
          : undefined,
      },
      deadline.signal,
    );

    const result: PageResult = {
      finalUrl: extract.url,
      statusCode: response?.status() ?? 200,
      contentType: response?.headers()["content-type"],
      metadata: converted.metadata,
    };
    if (converted.markdown !== undefined) result.markdown = converted.markdown;
    if (wanted.html) result.html = extract.cleanHtml;
    if (wanted.rawHtml) result.rawHtml = extract.rawHtml;
    if (wanted.links) result.links = extract.links;
    if (wanted.images) result.images = extract.images;
    if (screenshot !== undefined) result.screenshot = screenshot;
    if (actions) result.actions = actions;
    const replay = req.zeroDataRetention
      ? null
      : buildReplayContext({
          setup: settings,
          loadedUrl,
          loadedTimeOrigin,
          page: extract,
          cookies,
          actions: req.actions,
        });
    if (profile) {
      deadline.stage = "saving the profile";
      await profile.finish(context);
    }
    return { result, replay };
  } catch (err) {
    // Every Playwright wait here is bounded by the deadline, so its timeout is ours.
    const failure =
      deadline.abortError() ??
      (isTimeout(err) ? deadline.timeoutError() : unexpected(err, req.url));
    // The browser died under the scrape (a crash, the server shutting down): not the site's doing.
    throw browser.isConnected() ? failure : serverFault(failure);
  } finally {
    deadline.signal.removeEventListener("abort", stop);
    // Everything is read: the answer need not wait for Chromium to tear the context down.
    void context?.close().catch(() => {});
  }
}

async function getBrowser(deps: BrowserScrapeDeps): Promise<Browser> {
  try {
    return await deps.browser.get();
  } catch (err) {
    const message =
      err instanceof ChromiumNotFoundError ? err.message : "Chromium could not be started.";
    throw new AppError("BROWSER_UNAVAILABLE", message, undefined, { cause: err });
  }
}

function unexpected(err: unknown, url: string): AppError {
  if (err instanceof AppError) return err;
  return new AppError(
    "SCRAPE_FAILED",
    `The browser failed while scraping ${hostOf(url)}.`,
    undefined,
    { cause: err },
  );
}

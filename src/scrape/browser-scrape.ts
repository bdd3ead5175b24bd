import type { Browser, BrowserContext, Page, Response } from "playwright-core";
import { ChromiumNotFoundError } from "../browser/find-chromium.js";
import { AppError } from "../errors/app-error.js";
import type { FileStore } from "../files/file-store.js";
import { isTimeout, runActions, type ActionOutputs } from "./actions.js";
import type { Deadline } from "./deadline.js";
import { EGRESS_FAILURE_HEADER, EgressProxy } from "./egress-proxy.js";
import { wantedFormats } from "./formats.js";
import { egressError, hostOf, navigationError } from "./navigation-errors.js";
import { NON_MAIN_SELECTORS, MAIN_SELECTORS } from "./main-content.js";
import { pageSetup } from "./page-setup.js";
import { tunePage } from "./page-tuning.js";
import { buildReplayContext } from "./replay-capture.js";
import type { ReplayContext } from "./replay-context.js";
import type { ScrapeRequest } from "./request.js";
import { takeScreenshot, type ScreenshotSink } from "./screenshot.js";
import { extractPage, type ExtractOptions, type PageExtract } from "./transforms/extract-page.js";
import { BASE64_PLACEHOLDER, toMarkdown } from "./transforms/markdown.js";
import { pageMetadata } from "./transforms/metadata.js";
import { pageCall } from "./transforms/page-script.js";

export interface BrowserScrapeDeps {
  browser: { get(): Promise<Browser> };
  files: FileStore;
  /** Set when private networks are off limits; then all traffic goes through an EgressProxy. */
  isBlockedAddress?: (address: string) => boolean;
}

/** What one page load produced: the formats asked for plus page metadata. Cached as is. */
export interface PageResult {
  finalUrl: string;
  statusCode: number;
  contentType?: string;
  markdown?: string;
  html?: string;
  rawHtml?: string;
  links?: string[];
  images?: string[];
  /** A stored file's name, or a data: URI for zero-data-retention scrapes. */
  screenshot?: string;
  actions?: ActionOutputs;
  metadata: Record<string, unknown>;
}

/** Loads the page in a fresh context of the shared browser and reads what the request wants. */
export async function scrapeInBrowser(
  deps: BrowserScrapeDeps,
  req: ScrapeRequest,
  deadline: Deadline,
): Promise<{ result: PageResult; replay: ReplayContext | null }> {
  const browser = await getBrowser(deps);
  deadline.check();
  const proxy = deps.isBlockedAddress
    ? await EgressProxy.start({ isBlocked: deps.isBlockedAddress })
    : undefined;
  let context: BrowserContext | undefined;
  // Closing the context makes every pending call on it fail at once: that is how we stop.
  const stop = () => void context?.close().catch(() => {});
  deadline.signal.addEventListener("abort", stop);
  try {
    const setup = pageSetup(req, browser.version(), proxy?.url);
    context = await browser.newContext(setup.contextOptions);
    deadline.check();
    const page = await context.newPage();
    await Promise.all([
      tunePage(context, page, {
        blockAds: req.blockAds,
        userAgent: setup.replay.userAgent!,
        language: setup.language,
      }),
      checkSelectors(page, req),
    ]);

    deadline.stage = "loading the page";
    const response = await load(page, req, deadline, proxy);
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
      readPage(page, extractOptions(req)),
      req.zeroDataRetention ? [] : context.cookies(),
      // A screenshot with its own viewport reflows the page, so it waits for the read.
      shot && !shot.viewport ? takeScreenshot(page, shot, sink, deadline) : undefined,
    ]);
    const screenshot = shot?.viewport
      ? await takeScreenshot(page, shot, sink, deadline)
      : parallelShot;

    const result: PageResult = {
      finalUrl: extract.url,
      statusCode: response?.status() ?? 200,
      contentType: response?.headers()["content-type"],
      metadata: pageMetadata(extract),
    };
    if (wanted.markdown)
      result.markdown = toMarkdown(extract.cleanHtml ?? "", req.removeBase64Images);
    if (wanted.html) result.html = extract.cleanHtml;
    if (wanted.rawHtml) result.rawHtml = extract.rawHtml;
    if (wanted.links) result.links = extract.links;
    if (wanted.images) result.images = extract.images;
    if (screenshot !== undefined) result.screenshot = screenshot;
    if (actions) result.actions = actions;
    const replay = req.zeroDataRetention
      ? null
      : buildReplayContext({
          setup: setup.replay,
          loadedUrl,
          loadedTimeOrigin,
          page: extract,
          cookies,
          actions: req.actions,
        });
    return { result, replay };
  } catch (err) {
    throw deadline.abortError() ?? unexpected(err, req.url);
  } finally {
    deadline.signal.removeEventListener("abort", stop);
    await context?.close().catch(() => {});
    await proxy?.close();
  }
}

async function getBrowser(deps: BrowserScrapeDeps): Promise<Browser> {
  try {
    return await deps.browser.get();
  } catch (err) {
    const message =
      err instanceof ChromiumNotFoundError ? err.message : "Chromium could not be started.";
    throw withCause(new AppError("BROWSER_UNAVAILABLE", message), err);
  }
}

/** Navigates and turns every way a load can fail into an error naming cause and host. */
async function load(
  page: Page,
  req: ScrapeRequest,
  deadline: Deadline,
  proxy: EgressProxy | undefined,
): Promise<Response | null> {
  // Through the proxy a failed hop shows up as a tunnel error; remember which URL it was.
  let lastNavigation = req.url;
  if (proxy) {
    page.on("request", (r) => {
      if (r.isNavigationRequest() && r.frame() === page.mainFrame()) lastNavigation = r.url();
    });
  }
  let response: Response | null;
  try {
    response = await page.goto(req.url, { waitUntil: "load", timeout: deadline.remaining() });
  } catch (err) {
    const failure = proxy?.failureFor(hostname(lastNavigation));
    throw (
      deadline.abortError() ??
      (isTimeout(err) ? deadline.timeoutError() : undefined) ??
      (failure ? egressError(failure, lastNavigation) : navigationError(err, req.url))
    );
  }
  const refused = response?.headers()[EGRESS_FAILURE_HEADER];
  if (proxy && response && refused) {
    const host = hostname(response.url());
    throw egressError(proxy.failureFor(host) ?? { kind: "unreachable", host }, response.url());
  }
  return response;
}

function hostname(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

/** Refuses bad CSS in includeTags/excludeTags before loading anything, in the browser's own parser. */
async function checkSelectors(page: Page, req: ScrapeRequest): Promise<void> {
  const named = [
    ...(req.includeTags ?? []).map((s, i) => ({ s, path: `includeTags.${i}` })),
    ...(req.excludeTags ?? []).map((s, i) => ({ s, path: `excludeTags.${i}` })),
  ];
  if (named.length === 0) return;
  const selectors = named.map((n) => n.s);
  const invalid = (await page.evaluate((list) => {
    const frag = document.createDocumentFragment();
    return list.filter((s) => {
      try {
        frag.querySelector(s);
        return false;
      } catch {
        return true;
      }
    });
  }, selectors)) as string[];
  if (invalid.length > 0) {
    const details = named
      .filter((n) => invalid.includes(n.s))
      .map((n) => ({ path: n.path, message: `not a valid CSS selector: ${n.s}` }));
    throw new AppError(
      "BAD_REQUEST",
      "Bad Request: " + details.map((d) => `${d.path}: ${d.message}`).join("; "),
      details,
    );
  }
}

function extractOptions(req: ScrapeRequest): ExtractOptions {
  const wanted = wantedFormats(req.formats);
  return {
    raw: wanted.rawHtml,
    clean: wanted.markdown || wanted.html,
    links: wanted.links,
    images: wanted.images,
    storage: !req.zeroDataRetention,
    onlyMainContent: req.onlyMainContent,
    includeTags: req.includeTags ?? [],
    excludeTags: req.excludeTags ?? [],
    removeBase64Images: req.removeBase64Images,
    nonMainSelectors: NON_MAIN_SELECTORS,
    keepSelectors: MAIN_SELECTORS,
    base64Placeholder: BASE64_PLACEHOLDER,
  };
}

/** Reads the page; if a script navigated it just then, waits for the new page and reads again. */
async function readPage(page: Page, opts: ExtractOptions): Promise<PageExtract> {
  const expression = pageCall(extractPage, opts);
  try {
    return (await page.evaluate(expression)) as PageExtract;
  } catch (err) {
    if (!/Execution context was destroyed|navigat/i.test(String(err))) throw err;
    await page.waitForLoadState("load");
    return (await page.evaluate(expression)) as PageExtract;
  }
}

function unexpected(err: unknown, url: string): AppError {
  if (err instanceof AppError) return err;
  return withCause(
    new AppError("SCRAPE_FAILED", `The browser failed while scraping ${hostOf(url)}.`),
    err,
  );
}

function withCause(err: AppError, cause: unknown): AppError {
  return Object.assign(err, { cause });
}

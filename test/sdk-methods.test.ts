import fs from "node:fs";
import Firecrawl from "@mendable/firecrawl-js";
import { describe, expect, test } from "vitest";
import { pythonSdk } from "./helpers/python-sdk.js";

/**
 * Every public method of both official SDKs, sorted in two: what this server serves (scrape,
 * interact, browser sessions, usage), each beside the test file that calls it through that SDK,
 * and what it does not (crawl, map, search, ...). A method a new SDK version brings is in
 * neither list and fails here until someone decides which it is.
 */
interface SdkMethods {
  sdk: string;
  /** The SDK's public method names, as a user finds them on the client. */
  names: () => Promise<string[]>;
  /** Served method -> the test file that calls it through this SDK. */
  served: Record<string, string>;
  /** Not served method -> what it would need here. */
  notServed: Record<string, string>;
}

const all = (names: string[], value: string) => Object.fromEntries(names.map((n) => [n, value]));

const JS: SdkMethods = {
  sdk: "@mendable/firecrawl-js",
  names: async () =>
    Object.getOwnPropertyNames(Firecrawl.prototype).filter((n) => n !== "constructor"),
  served: {
    scrape: "test/sdk-scrape.test.ts",
    scrapeUrl: "test/sdk-scrape.test.ts",
    interact: "test/sdk-interact.test.ts",
    stopInteraction: "test/sdk-interact.test.ts",
    scrapeExecute: "test/sdk-interact.test.ts",
    stopInteractiveBrowser: "test/sdk-interact.test.ts",
    deleteScrapeBrowser: "test/sdk-interact.test.ts",
    browser: "test/browser-api.test.ts",
    browserExecute: "test/browser-api.test.ts",
    listBrowsers: "test/browser-api.test.ts",
    deleteBrowser: "test/browser-api.test.ts",
    getCreditUsage: "test/teams-auth.test.ts",
    getConcurrency: "test/teams-usage.test.ts",
    getQueueStatus: "test/teams-usage.test.ts",
    getTokenUsage: "test/teams-usage.test.ts",
    getCreditUsageHistorical: "test/teams-usage.test.ts",
    getTokenUsageHistorical: "test/teams-usage.test.ts",
  },
  notServed: {
    v1: "the v1 API (a getter returning its client)",
    isCloudService: "no request: tells Firecrawl's cloud URL from others",
    findTools: "alexandria calls on /v2/scrape",
    watcher: "a WebSocket on /v2/crawl/{id} or /v2/batch/scrape/{id}",
    research: "/v2/search/research (a getter returning its client)",
    ...all(["parse"], "/v2/parse"),
    ...all(["search", "developerSearch", "searchFeedback"], "/v2/search"),
    ...all(["feedback"], "/v2/feedback"),
    ...all(["map", "mapUrl"], "/v2/map"),
    ...all(
      [
        "startCrawl",
        "getCrawlStatus",
        "cancelCrawl",
        "crawl",
        "getCrawlErrors",
        "getActiveCrawls",
        "crawlParamsPreview",
        "crawlUrl",
        "asyncCrawlUrl",
        "checkCrawlStatus",
        "checkCrawlErrors",
      ],
      "/v2/crawl",
    ),
    ...all(
      [
        "createMonitor",
        "listMonitors",
        "getMonitor",
        "updateMonitor",
        "deleteMonitor",
        "runMonitor",
        "listMonitorChecks",
        "getMonitorCheck",
      ],
      "/v2/monitor",
    ),
    ...all(
      [
        "startBatchScrape",
        "getBatchScrapeStatus",
        "getBatchScrapeErrors",
        "cancelBatchScrape",
        "batchScrape",
        "batchScrapeUrls",
        "asyncBatchScrapeUrls",
        "checkBatchScrapeStatus",
        "checkBatchScrapeErrors",
      ],
      "/v2/batch/scrape",
    ),
    ...all(["startExtract", "getExtractStatus", "extract"], "/v2/extract"),
    ...all(
      [
        "startAgent",
        "getAgentStatus",
        "listAgents",
        "agent",
        "cancelAgent",
        "getAgentTrace",
        "getAgentSnapshot",
        "getAgentThread",
      ],
      "/v2/agent",
    ),
  },
};

/** Python binds the v2 client's methods on each instance; two are only on the client (fc.v2). */
const PYTHON_NAMES = `
names = {n for n, v in vars(fc).items() if callable(v) and not n.startswith("_")}
for cls in (type(fc), type(fc.v2._client)):
    names |= {n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))}
result = sorted(names)
`;

const PYTHON: SdkMethods = {
  sdk: "firecrawl-py",
  // Listing methods sends no request: any address will do.
  names: () => pythonSdk({ url: "http://127.0.0.1:9" }).value(PYTHON_NAMES),
  served: {
    scrape: "test/sdk-python.test.ts",
    scrape_url: "test/sdk-python.test.ts",
    interact: "test/sdk-python.test.ts",
    stop_interaction: "test/sdk-python.test.ts",
    scrape_execute: "test/sdk-python.test.ts",
    stop_interactive_browser: "test/sdk-python.test.ts",
    delete_scrape_browser: "test/sdk-python.test.ts",
    browser: "test/sdk-python.test.ts",
    browser_execute: "test/sdk-python.test.ts",
    list_browsers: "test/sdk-python.test.ts",
    delete_browser: "test/sdk-python.test.ts",
    get_credit_usage: "test/sdk-python.test.ts",
    get_concurrency: "test/sdk-python.test.ts",
    get_queue_status: "test/sdk-python.test.ts",
    get_token_usage: "test/sdk-python.test.ts",
    get_credit_usage_historical: "test/sdk-python.test.ts",
    get_token_usage_historical: "test/sdk-python.test.ts",
  },
  notServed: {
    find_tools: "alexandria calls on /v2/scrape",
    scrape_alexandria: "alexandria calls on /v2/scrape",
    watcher: "a WebSocket on /v2/crawl/{id} or /v2/batch/scrape/{id}",
    ...all(["parse", "get_parse_formats"], "/v2/parse"),
    ...all(["search", "developer_search", "gov_search"], "/v2/search"),
    ...all(
      ["search_papers", "inspect_paper", "read_paper", "related_papers", "search_github"],
      "/v2/search/research",
    ),
    ...all(["map", "map_url"], "/v2/map"),
    ...all(
      [
        "crawl",
        "start_crawl",
        "wait_crawl",
        "get_crawl_status",
        "get_crawl_status_page",
        "cancel_crawl",
        "get_crawl_errors",
        "get_active_crawls",
        "active_crawls",
        "crawl_params_preview",
        "crawl_url",
        "async_crawl_url",
        "check_crawl_status",
        "check_crawl_errors",
      ],
      "/v2/crawl",
    ),
    ...all(
      [
        "create_monitor",
        "list_monitors",
        "get_monitor",
        "update_monitor",
        "delete_monitor",
        "run_monitor",
        "list_monitor_checks",
        "get_monitor_check",
      ],
      "/v2/monitor",
    ),
    ...all(
      [
        "batch_scrape",
        "start_batch_scrape",
        "get_batch_scrape_status",
        "get_batch_scrape_status_page",
        "get_batch_scrape_errors",
        "cancel_batch_scrape",
        "batch_scrape_urls",
        "async_batch_scrape_urls",
        "check_batch_scrape_status",
        "check_batch_scrape_errors",
      ],
      "/v2/batch/scrape",
    ),
    ...all(["extract", "start_extract", "get_extract_status"], "/v2/extract"),
    ...all(
      [
        "agent",
        "start_agent",
        "get_agent_status",
        "list_agents",
        "cancel_agent",
        "get_agent_trace",
        "get_agent_snapshot",
        "get_agent_thread",
      ],
      "/v2/agent",
    ),
  },
};

/** A path as listed (from the project's root). */
const inProject = (file: string) => new URL(`../${file}`, import.meta.url);

/** Served methods grouped by the test file said to call them. */
function byFile(served: Record<string, string>): [string, string[]][] {
  const files = new Map<string, string[]>();
  for (const [name, file] of Object.entries(served)) {
    files.set(file, [...(files.get(file) ?? []), name]);
  }
  return [...files];
}

describe.each([JS, PYTHON])("$sdk", (sdk) => {
  test("every public method is sorted as served or not served, and every listed one exists", async () => {
    const names = await sdk.names();
    const both = Object.keys(sdk.served).filter((n) => n in sdk.notServed);
    expect(both, "listed as served and as not served").toEqual([]);
    const unsorted = names.filter((n) => !(n in sdk.served) && !(n in sdk.notServed));
    expect(
      unsorted,
      `${sdk.sdk} has methods test/sdk-methods.test.ts does not know: add each to its served ` +
        "list (with the test file that calls it through the SDK) or to its notServed list",
    ).toEqual([]);
    const gone = [...Object.keys(sdk.served), ...Object.keys(sdk.notServed)].filter(
      (n) => !names.includes(n),
    );
    expect(gone, `listed but no longer in ${sdk.sdk}: remove them`).toEqual([]);
  });

  // A file not in the suite yet is reported as skipped, not passed.
  for (const [file, names] of byFile(sdk.served)) {
    test.skipIf(!fs.existsSync(inProject(file)))(`${file} calls ${names.join(", ")}`, () => {
      const text = fs.readFileSync(inProject(file), "utf8");
      const missing = names.filter((n) => !text.includes(`.${n}(`));
      expect(missing, `${file} never calls these through ${sdk.sdk}`).toEqual([]);
    });
  }
});

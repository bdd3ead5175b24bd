import http from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { serveHttpAndHttps } from "./helpers/fixture-site.js";
import { interact, stop } from "./helpers/interact.js";
import { closeAll, postJson, startTestServer, type TestServer } from "./helpers/server.js";

/**
 * "The page as the scrape left it", field by field: the scrape's page, the session's first page,
 * a tab the user's code opens with context.newPage() and one a target=_blank link opens must
 * all agree, in what the page's first script sees and in what the site receives.
 */

/** What a page's first script sees, written into window.__probe before anything else runs. */
const PROBE = `<!doctype html><html><head>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script>
window.__probe = {
  innerWidth, screenWidth: screen.width, screenHeight: screen.height, dpr: devicePixelRatio,
  orientation: screen.orientation ? screen.orientation.type : null,
  touchPoints: navigator.maxTouchPoints, touchEvents: 'ontouchstart' in window,
  coarsePointer: matchMedia('(pointer: coarse)').matches,
  ua: navigator.userAgent,
  uaPlatform: navigator.userAgentData ? navigator.userAgentData.platform : null,
  uaMobile: navigator.userAgentData ? navigator.userAgentData.mobile : null,
  language: navigator.language, languages: navigator.languages.join(','),
  locale: Intl.DateTimeFormat().resolvedOptions().locale,
  timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  offset: new Date(Date.UTC(2030, 0, 15)).getTimezoneOffset(),
};
</script>
<script src="/pagead/js/adsbygoogle.js"></script>
<script>window.__probe.adLoaded = window.__adLoaded === true;</script>
</head><body><a id="blank" target="_blank" href="/probe?via=link">open</a></body></html>`;

interface SiteRequest {
  path: string;
  via: string | null;
  headers: http.IncomingHttpHeaders;
}

/** The probe page and an ad script under an ad path, over HTTP and over HTTPS (self-signed). */
async function startProbeSite() {
  const requests: SiteRequest[] = [];
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push({ path: url.pathname, via: url.searchParams.get("via"), headers: req.headers });
    if (url.pathname === "/pagead/js/adsbygoogle.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      return void res.end("window.__adLoaded = true;");
    }
    if (url.pathname !== "/probe") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(PROBE);
  };
  return { ...(await serveHttpAndHttps(handle)), requests };
}

type Probe = Record<string, unknown>;
const PAGES = [
  "session's first page",
  "tab from context.newPage()",
  "tab from a target=_blank link",
];

/** What the scrape's page and the session's three pages saw, and what the site received. */
interface Observed {
  scrape: Probe;
  session: Probe[];
  /** Requests for the probe document: the scrape's first, then the session's, in PAGES order. */
  scrapeRequest: SiteRequest;
  sessionRequests: SiteRequest[];
  /** An HTTPS page with a self-signed certificate, opened in a fresh session tab. */
  selfSignedInSession: string;
  adRequests: number;
}

// Runs in the session: the restored page's probe, a new tab's and a link-opened tab's, then
// whether a self-signed HTTPS page loads in yet another tab (not closed: see the README's quirk).
const SESSION_CODE = (base: string, httpsBase: string) => `
const first = await page.evaluate(() => window.__probe);
const tab = await context.newPage();
await tab.goto(${JSON.stringify(`${base}/probe?via=newtab`)});
const newTab = await tab.evaluate(() => window.__probe);
const [popup] = await Promise.all([context.waitForEvent("page"), page.click("#blank")]);
await popup.waitForLoadState();
const link = await popup.evaluate(() => window.__probe);
const tls = await context.newPage();
const selfSigned = await tls
  .goto(${JSON.stringify(`${httpsBase}/probe?via=tls`)})
  .then(() => "loaded", (e) => (/ERR_CERT/.test(e.message) ? "certificate refused" : e.message));
JSON.stringify({ first, newTab, link, selfSigned });`;

let server: TestServer;
let site: Awaited<ReturnType<typeof startProbeSite>>;
beforeAll(async () => {
  [server, site] = await Promise.all([startTestServer(), startProbeSite()]);
});
afterAll(() => closeAll(server, site));

/** Scrapes base/probe with `options`, then looks at the session's pages. */
async function observe(base: string, options: Record<string, unknown>): Promise<Observed> {
  const seenBefore = site.requests.length;
  const scraped = await postJson(`${server.url}/v2/scrape`, {
    url: `${base}/probe?via=scrape`,
    actions: [{ type: "executeJavascript", script: "return window.__probe" }],
    ...options,
  });
  expect(scraped.status, JSON.stringify(scraped.body)).toBe(200);
  const id = scraped.body.data.metadata.scrapeId;
  const res = await interact(server.url, id, { code: SESSION_CODE(base, site.httpsUrl) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.success, JSON.stringify(res.body)).toBe(true);
  await stop(server.url, id);
  const seen = JSON.parse(res.body.result);
  const documents = site.requests.slice(seenBefore).filter((r) => r.path === "/probe");
  const scrapeRequests = documents.filter((r) => r.via === "scrape");
  return {
    scrape: scraped.body.data.actions.javascriptReturns[0].value,
    session: [seen.first, seen.newTab, seen.link],
    scrapeRequest: scrapeRequests[0]!,
    sessionRequests: [
      // The restore loads the scrape's own URL again.
      scrapeRequests[1]!,
      documents.find((r) => r.via === "newtab")!,
      documents.find((r) => r.via === "link")!,
    ],
    selfSignedInSession: seen.selfSigned,
    adRequests: site.requests.slice(seenBefore).filter((r) => r.path.endsWith("adsbygoogle.js"))
      .length,
  };
}

/** Each replay-context field, as a page's first script sees it. */
const PAGE_FIELDS: Record<string, (p: Probe) => unknown> = {
  "viewport, mobile and touch": (p) => [
    p.innerWidth,
    p.screenWidth,
    p.screenHeight,
    p.dpr,
    p.orientation,
    p.touchPoints,
    p.touchEvents,
    p.coarsePointer,
  ],
  userAgent: (p) => [p.ua, p.uaPlatform, p.uaMobile],
  "locale and languages": (p) => [p.locale, p.language, p.languages],
  timezoneId: (p) => [p.timeZone, p.offset],
  blockAds: (p) => p.adLoaded,
};

/** Each replay-context field, as the site receives it with the page's request. */
const REQUEST_FIELDS: Record<string, (r: SiteRequest) => unknown> = {
  "userAgent (User-Agent)": (r) => r.headers["user-agent"],
  "userAgent (client hints)": (r) => [
    r.headers["sec-ch-ua-mobile"],
    r.headers["sec-ch-ua-platform"],
  ],
  "languages (Accept-Language)": (r) => r.headers["accept-language"],
  headers: (r) => r.headers["x-probe"],
};

/**
 * Chromium sends the first request of a tab opened by a target=_blank link with the browser's
 * own Sec-CH-UA-Mobile and -Platform, whoever overrides them: a Playwright context with
 * `userAgent` and `isMobile` does the same. The tab's own navigator.userAgentData, its later
 * requests and window.open tabs are right, so only that one request is left out.
 */
const CHROMIUM_KEEPS = { field: "userAgent (client hints)", page: 2 };
/** One test per field: every session page agrees with the scrape's page on it. */
function agreesFieldByField(observed: () => Observed): void {
  for (const [field, read] of Object.entries(PAGE_FIELDS)) {
    test(`${field}: as the scrape's page saw it`, () => {
      const o = observed();
      o.session.forEach((probe, i) =>
        expect(read(probe), `${field} in the ${PAGES[i]}`).toEqual(read(o.scrape)),
      );
    });
  }
  for (const [field, read] of Object.entries(REQUEST_FIELDS)) {
    test(`${field}: as the site received it from the scrape`, () => {
      const o = observed();
      o.sessionRequests.forEach((request, i) => {
        if (field === CHROMIUM_KEEPS.field && i === CHROMIUM_KEEPS.page) return;
        expect(read(request), `${field} from the ${PAGES[i]}`).toEqual(read(o.scrapeRequest));
      });
    });
  }
}

describe("an iPhone in Berlin with a header, over HTTPS with a self-signed certificate", () => {
  let o: Observed;
  beforeAll(async () => {
    o = await observe(site.httpsUrl, {
      mobile: true,
      location: { country: "DE", languages: ["de-DE"] },
      headers: { "X-Probe": "p1" },
    });
  });

  test("the scrape's page is what was asked for", () => {
    expect(o.scrape).toMatchObject({
      innerWidth: 390,
      screenWidth: 390,
      orientation: "portrait-primary",
      touchPoints: 1,
      touchEvents: true,
      ua: expect.stringContaining("iPhone"),
      uaMobile: true,
      language: "de-DE",
      languages: "de-DE,de",
      locale: "de-DE",
      timeZone: "Europe/Berlin",
      offset: -60,
      adLoaded: false,
    });
    expect(o.scrapeRequest.headers).toMatchObject({
      "accept-language": "de-DE,de;q=0.9",
      "x-probe": "p1",
    });
  });

  agreesFieldByField(() => o);

  test("ignoreHTTPSErrors: every session page loaded over HTTPS, a new one too", () => {
    expect(o.sessionRequests.every((r) => r !== undefined)).toBe(true);
    expect(o.selfSignedInSession).toBe("loaded");
  });

  test("blockAds: no page asked for the ad script", () => {
    expect(o.adRequests).toBe(0);
  });
});

describe("a desktop with ads allowed and certificates checked", () => {
  let o: Observed;
  beforeAll(async () => {
    o = await observe(site.url, { blockAds: false, skipTlsVerification: false });
  });

  test("the scrape's page is what was asked for", () => {
    expect(o.scrape).toMatchObject({
      innerWidth: 1280,
      screenWidth: 1280,
      touchPoints: 0,
      touchEvents: false,
      ua: expect.not.stringContaining("Headless"),
      uaMobile: false,
      timeZone: "UTC",
      adLoaded: true,
    });
  });

  agreesFieldByField(() => o);

  test("ignoreHTTPSErrors false: a self-signed page is refused in the session as in a scrape", async () => {
    expect(o.selfSignedInSession).toBe("certificate refused");
    const scraped = await postJson(`${server.url}/v2/scrape`, {
      url: `${site.httpsUrl}/probe?via=strict`,
      skipTlsVerification: false,
    });
    expect(scraped.body.code).toBe("SCRAPE_SSL_ERROR");
  });

  test("blockAds false: every page loaded the ad script", () => {
    expect(o.adRequests).toBe(1 + PAGES.length);
  });
});

import { expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { postJson, type TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";

let server: TestServer;
let site: FixtureSite;
useServerAndSite((s) => ({ server, site } = s));

const scrape = (body: unknown) => postJson(`${server.url}/v2/scrape`, body);

test("headers are sent with the page and with its subresources", async () => {
  const res = await scrape({ url: `${site.url}/headers`, headers: { "X-Test-Header": "hello" } });
  expect(res.status).toBe(200);
  expect(res.body.data.markdown).toContain('"x-test-header": "hello"');
  const pixel = site.requests.find((r) => r.path === "/pixel.png" && r.query === "from=headers");
  expect(pixel?.headers["x-test-header"]).toBe("hello");
});

test("waitFor gives late JavaScript time to render", async () => {
  // Side by side: the late content takes 3 s to appear, for both.
  const [early, waited] = await Promise.all([
    scrape({ url: `${site.url}/delayed`, timeout: 10_000 }),
    scrape({ url: `${site.url}/delayed`, waitFor: 4000, timeout: 10_000 }),
  ]);
  expect(early.body.data.markdown).toContain("Early content");
  expect(early.body.data.markdown).not.toContain("Late content");
  expect(waited.body.data.markdown).toContain("Late content");
});

test("desktop by default; mobile: true gives a phone's viewport and user agent", async () => {
  const desktop = await scrape({ url: `${site.url}/env` });
  expect(desktop.body.data.markdown).toContain("width=1280");
  expect(desktop.body.data.markdown).not.toContain("HeadlessChrome");
  const mobile = await scrape({ url: `${site.url}/env`, mobile: true });
  expect(mobile.body.data.markdown).toContain("width=390");
  expect(mobile.body.data.markdown).toContain("iPhone");
});

test("nothing a site receives says headless: neither the User-Agent nor the client hints", async () => {
  for (const mobile of [false, true]) {
    const res = await scrape({ url: `${site.url}/headers`, mobile, formats: ["rawHtml"] });
    expect(res.status).toBe(200);
    // The page shows the request headers it received as JSON.
    const sent = res.body.data.rawHtml.replaceAll("&quot;", '"');
    expect(sent).toContain('"user-agent"');
    expect(sent).not.toMatch(/headless/i);
    expect(sent).toContain('"accept-language": "en-US,en;q=0.9"');
    if (!mobile) expect(sent).toMatch(/"sec-ch-ua": ".*Chromium\\";v=\\"\d+/);
  }
});

test("location sets the time zone, the browser language and Accept-Language", async () => {
  const location = { country: "DE", languages: ["de-DE"] };
  const env = await scrape({ url: `${site.url}/env`, location });
  expect(env.body.data.markdown).toContain("tz=Europe/Berlin");
  expect(env.body.data.markdown).toContain("lang=de-DE");
  const headers = await scrape({ url: `${site.url}/headers`, location });
  expect(headers.body.data.markdown).toContain('"accept-language": "de-DE,de;q=0.9"');

  // A country alone picks its main language and zone.
  const japan = await scrape({ url: `${site.url}/env`, location: { country: "jp" } });
  expect(japan.body.data.markdown).toContain("tz=Asia/Tokyo");
  expect(japan.body.data.markdown).toContain("lang=ja-JP");
});

test("a self-signed certificate is accepted by default and refused with skipTlsVerification: false", async () => {
  const lenient = await scrape({ url: `${site.httpsUrl}/meta` });
  expect(lenient.status).toBe(200);
  expect(lenient.body.data.markdown).toContain("Meta body");

  const strict = await scrape({ url: `${site.httpsUrl}/meta`, skipTlsVerification: false });
  expect(strict.status).toBe(502);
  expect(strict.body.code).toBe("SCRAPE_SSL_ERROR");
  expect(strict.body.error).toContain(new URL(site.httpsUrl).host);
});

test("blockAds (the default) keeps ad scripts from loading; blockAds: false lets them run", async () => {
  const blocked = await scrape({ url: `${site.url}/ads` });
  expect(blocked.body.data.markdown).toContain("no ad");
  expect(blocked.body.data.markdown).not.toContain("AD LOADED");
  expect(site.requests.some((r) => r.path === "/pagead/js/adsbygoogle.js")).toBe(false);

  const allowed = await scrape({ url: `${site.url}/ads`, blockAds: false });
  expect(allowed.body.data.markdown).toContain("AD LOADED");
});

test("actions run in order and report screenshots, scrapes and JavaScript results", async () => {
  const res = await scrape({
    url: `${site.url}/signin-form`,
    actions: [
      { type: "click", selector: "#note" },
      { type: "wait", milliseconds: 50 },
      { type: "click", selector: "#name" },
      { type: "write", text: "alice" },
      {
        type: "executeJavascript",
        script: "const v = document.querySelector('#name').value; v.toUpperCase()",
      },
      {
        type: "executeJavascript",
        script: "await new Promise((r) => setTimeout(r, 10)); return 42",
      },
      { type: "scrape" },
      { type: "screenshot" },
      { type: "press", key: "Enter" },
    ],
  });
  expect(res.status).toBe(200);
  const { actions, markdown, metadata } = res.body.data;
  expect(actions.javascriptReturns).toEqual([
    { type: "string", value: "ALICE" },
    { type: "number", value: 42 },
  ]);
  expect(actions.scrapes).toHaveLength(1);
  expect(actions.scrapes[0].url).toBe(`${site.url}/signin-form`);
  expect(actions.scrapes[0].html).toContain('<p id="msg">noted</p>');
  expect(actions.screenshots).toHaveLength(1);
  const shot = await fetch(actions.screenshots[0]);
  expect(shot.headers.get("content-type")).toBe("image/png");
  expect(actions.pdfs).toEqual([]);
  // Enter submitted the form: the document is the page it led to.
  expect(markdown).toContain("Welcome back");
  expect(metadata.url).toBe(`${site.url}/signin`);
  expect(metadata.sourceURL).toBe(`${site.url}/signin-form`);
});

test("wait for a selector, scroll, and click every match", async () => {
  // The other two run while the first waits the 3 s its element takes to appear.
  const [waited, scrolled, clicked] = await Promise.all([
    scrape({ url: `${site.url}/delayed`, actions: [{ type: "wait", selector: "#late" }] }),
    scrape({ url: `${site.url}/scroll`, actions: [{ type: "scroll" }] }),
    scrape({
      url: `${site.url}/buttons`,
      actions: [{ type: "click", selector: ".inc", all: true }],
    }),
  ]);
  expect(waited.body.data.markdown).toContain("Late content");
  expect(scrolled.body.data.markdown).toContain("More content loaded");
  expect(clicked.body.data.markdown).toContain("count=3");
});

test("a failing action is a 400 that names the action and the reason", async () => {
  // Side by side: a click waits a few seconds for an element that never comes.
  const [missing, thrown] = await Promise.all([
    scrape({ url: `${site.url}/form`, actions: [{ type: "click", selector: "#does-not-exist" }] }),
    scrape({
      url: `${site.url}/form`,
      actions: [
        { type: "wait", milliseconds: 1 },
        { type: "executeJavascript", script: "throw new Error('boom')" },
      ],
    }),
  ]);
  expect(missing.status).toBe(400);
  expect(missing.body.code).toBe("BAD_REQUEST");
  expect(missing.body.error).toContain("Action 0 (click)");
  expect(missing.body.error).toContain("#does-not-exist");

  expect(thrown.status).toBe(400);
  expect(thrown.body.error).toContain("Action 1 (executeJavascript)");
  expect(thrown.body.error).toContain("boom");
});

test("an origin naming Firecrawl's website gets the scrape's id at the top level too; others do not", async () => {
  const fromSite = await scrape({ url: `${site.url}/`, origin: "website-playground" });
  expect(fromSite.status).toBe(200);
  expect(fromSite.body.scrape_id).toBe(fromSite.body.data.metadata.scrapeId);
  const fromSdk = await scrape({ url: `${site.url}/`, origin: "js-sdk@4.42.0" });
  expect(fromSdk.status).toBe(200);
  expect(fromSdk.body).not.toHaveProperty("scrape_id");
});

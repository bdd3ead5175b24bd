import Firecrawl from "@mendable/firecrawl-js";
import { chromium } from "playwright-core";
import { beforeAll, expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { interact } from "./helpers/interact.js";
import { type TestServer, waitFor } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";

let server: TestServer;
let site: FixtureSite;
let app: Firecrawl;

useServerAndSite((s) => ({ server, site } = s));
beforeAll(async () => {
  app = new Firecrawl({ apiUrl: server.url, apiKey: "fc-self-hosted" });
});

const raw = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
};

test("the SDK's browser methods: create on a blank page, execute in node and bash, list, delete, 410 after", async () => {
  const before = Date.now();
  const created = await app.browser({ ttl: 120 });
  expect(created).toMatchObject({ success: true, id: expect.any(String) });
  expect(created.cdpUrl).toMatch(/^ws:\/\/.+\/cdp\//);
  expect(created.liveViewUrl).toMatch(/\/live\//);
  expect(created.interactiveLiveViewUrl).not.toBe(created.liveViewUrl);
  const expires = Date.parse(created.expiresAt!);
  expect(expires).toBeGreaterThanOrEqual(before + 119_000);
  expect(expires).toBeLessThanOrEqual(Date.now() + 121_000);
  const id = created.id!;

  const blank = await app.browserExecute(id, { code: "page.url()", language: "node" });
  expect(blank).toMatchObject({ success: true, result: "about:blank", exitCode: 0 });
  // It presents itself as a regular Chrome, as scrapes do.
  const ua = await app.browserExecute(id, {
    code: "await page.evaluate(() => navigator.userAgent)",
    language: "node",
  });
  expect(ua.result).not.toContain("Headless");

  await app.browserExecute(id, {
    code: `await page.goto(${JSON.stringify(`${site.url}/`)})`,
    language: "node",
  });
  // bash is the default language, with agent-browser on the same page.
  const viaBash = await app.browserExecute(id, { code: "agent-browser get title" });
  expect(viaBash.stdout?.trim()).toBe("Fixture Home");

  // Our own Playwright over CDP sees the same page.
  const browser = await chromium.connectOverCDP(created.cdpUrl!);
  try {
    const page = browser
      .contexts()[0]!
      .pages()
      .find((p) => p.url().startsWith(site.url));
    expect(await page?.title()).toBe("Fixture Home");
  } finally {
    await browser.close();
  }

  const listed = await app.listBrowsers({ status: "active" });
  const entry = listed.sessions!.find((s) => s.id === id);
  expect(entry).toMatchObject({ status: "active", cdpUrl: created.cdpUrl, streamWebView: true });
  expect(Date.parse(entry!.lastActivity)).toBeGreaterThanOrEqual(Date.parse(entry!.createdAt));

  const deleted = await app.deleteBrowser(id);
  expect(deleted).toMatchObject({ success: true, status: "stopped", creditsBilled: 2 });
  expect(deleted.sessionDurationMs).toBeGreaterThan(0);

  // Stopping it again is not an error, as in Firecrawl: its bill as it stands.
  const again = await raw("DELETE", `/v2/browser/${id}`);
  expect(again).toEqual({
    status: 200,
    body: { success: true, status: "stopped", creditsBilled: 2 },
  });
  const late = await raw("POST", `/v2/browser/${id}/execute`, { code: "ls" });
  expect(late.status).toBe(410);
  expect(late.body.details).toEqual({ reason: "stopped" });
  const ended = await app.listBrowsers({ status: "destroyed" });
  expect(ended.sessions!.find((s) => s.id === id)).toMatchObject({
    status: "destroyed",
    cdpUrl: "",
  });
  expect((await app.listBrowsers({ status: "active" })).sessions!.some((s) => s.id === id)).toBe(
    false,
  );
});

test("clear errors: unknown and malformed ids, out-of-range lifetimes, a scrape's id; unknown fields dropped", async () => {
  const unknown = "00000000-0000-4000-8000-000000000000";
  expect(await raw("DELETE", `/v2/browser/${unknown}`)).toMatchObject({
    status: 404,
    body: { error: "Browser session not found." },
  });
  expect((await raw("POST", `/v2/browser/${unknown}/execute`, { code: "ls" })).status).toBe(404);
  expect(await raw("DELETE", "/v2/browser/not-a-uuid")).toMatchObject({
    status: 400,
    body: { error: "Invalid session ID format. Session ID must be a valid UUID." },
  });
  const short = await raw("POST", "/v2/browser", { ttl: 5 });
  expect(short.status).toBe(400);
  expect(short.body.error).toMatch(/ttl/);
  expect((await raw("POST", "/v2/browser", { activityTtl: 4000 })).status).toBe(400);
  // A field a newer client sends is dropped, as Firecrawl does: no 400.
  const newer = await raw("POST", "/v2/browser", { ttl: 60, colour: "red" });
  expect(newer.status).toBe(200);
  expect((await raw("DELETE", `/v2/browser/${newer.body.id}`)).status).toBe(200);
  expect((await raw("GET", "/v2/browser?status=sleeping")).status).toBe(400);
  const profile = await raw("POST", "/v2/browser", { profile: { name: "" } });
  expect(profile.status).toBe(400);
  expect(profile.body.error).toMatch(/profile\.name/);
  expect(server.services.sessions.activeCount()).toBe(0);

  // A browser session is not a scrape, and a scrape's interact is not a browser session.
  const created = await raw("POST", "/v2/browser", {});
  expect(created.status).toBe(200);
  const asScrape = await interact(server.url, created.body.id, { code: "1" });
  expect(asScrape).toMatchObject({ status: 404, body: { error: "Job not found." } });
  expect((await raw("DELETE", `/v2/scrape/${created.body.id}/interact`)).status).toBe(404);
  expect((await raw("DELETE", `/v2/browser/${created.body.id}`)).status).toBe(200);
});

test("activityTtl ends an idle browser session on its own", async () => {
  const created = await raw("POST", "/v2/browser", {
    ttl: 60,
    activityTtl: 10,
    streamWebView: false,
  });
  expect(created.status).toBe(200);
  const id = created.body.id;
  const listing = async () =>
    (await raw("GET", "/v2/browser")).body.sessions.find((s: any) => s.id === id);
  const listed = await listing();
  expect(listed).toMatchObject({ streamWebView: false });
  // Listing is no activity: a later listing leaves the last activity where it was.
  const lastActivity = Date.parse(listed.lastActivity);
  await expect.poll(() => Date.now()).toBeGreaterThan(lastActivity);
  expect((await listing()).lastActivity).toBe(listed.lastActivity);
  // The idle timeout is driven from here: a sweep as the sweeper runs it 10 s after that.
  server.services.lifetimes.sweep(lastActivity + 10_000);
  const gone = await waitFor(async () => {
    const now = await raw("GET", "/v2/browser?status=destroyed");
    return now.body.sessions.some((s: any) => s.id === id);
  }, 20_000);
  expect(gone).toBe(true);
  const after = await raw("DELETE", `/v2/browser/${id}`);
  expect(after).toMatchObject({ status: 200, body: { success: true, status: "stopped" } });
  const exec = await raw("POST", `/v2/browser/${id}/execute`, { code: "1", language: "node" });
  expect(exec).toMatchObject({ status: 410, body: { details: { reason: "idle" } } });
}, 40_000);

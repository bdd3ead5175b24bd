import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { launchViewerBrowser } from "./helpers/liveview.js";
import { interact, scrapeId } from "./helpers/interact.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import { makeTeam, teamClient } from "./helpers/team-client.js";

// The dashboard as a person uses it: a real browser drives the page at `/`.

let site: FixtureSite;
let browser: Browser;

beforeAll(async () => {
  [site, browser] = await Promise.all([startFixtureSite(), launchViewerBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
});

async function openDashboard(server: TestServer, hash = ""): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  (page as any).errors = errors;
  await page.goto(`${server.url}/${hash}`);
  return page;
}

describe("without authentication", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  test("scrape in the playground, run code, copy it as curl, watch, then stop from the list", async () => {
    const page = await openDashboard(server, "#playground");
    await page.getByLabel("URL").fill(site.url + "/");
    await page.getByLabel("screenshot").check();
    await page.getByRole("button", { name: "Scrape" }).click();

    const output = page.locator("#scrape-output");
    await expect.poll(() => output.textContent(), { timeout: 30_000 }).toContain("Hello fixture");
    const meta = await page.locator("#scrape-meta").textContent();
    expect(meta).toContain("HTTP 200");
    const id = /scrape ([0-9a-f-]{36})/.exec(meta!)![1]!;
    const shot = page.getByAltText("Screenshot of the scraped page");
    await expect
      .poll(() => shot.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
      .toBeGreaterThan(0);

    // Run node code on that scrape's session; the answer shows the API's fields.
    await page.getByLabel("Run").selectOption("node");
    await page.getByLabel("Code").fill("await page.title()");
    await page.getByRole("button", { name: "Run" }).click();
    const result = page.locator('dd[data-field="result"]');
    await expect.poll(() => result.textContent(), { timeout: 60_000 }).toBe("Fixture Home");
    expect(await page.locator('dd[data-field="exitCode"]').textContent()).toBe("0");
    expect(await page.locator('dd[data-field="success"]').textContent()).toBe("true");

    // The live view beside it streams the session's browser.
    const live = page.frameLocator("#live-frame");
    await expect
      .poll(() => live.locator("#status").textContent(), { timeout: 20_000 })
      .toBe("Live · view only");
    await page.getByLabel("take over (mouse and keyboard)").check();
    await expect
      .poll(() => live.locator("#status").textContent(), { timeout: 20_000 })
      .toBe("Live");

    // "Copy as curl" gives a command that works as it is.
    await page.getByRole("button", { name: "Copy as curl" }).click();
    const curl = (await page.locator("#copy-text").textContent())!;
    expect(curl).toContain(`/v2/scrape/${id}/interact`);
    const ran = await promisify(execFile)("bash", ["-c", curl]);
    expect(JSON.parse(ran.stdout)).toMatchObject({ success: true, result: "Fixture Home" });
    await page.getByRole("button", { name: "Copy as SDK call" }).click();
    expect(await page.locator("#copy-text").textContent()).toContain(
      `app.interact(${JSON.stringify(id)}`,
    );

    // The sessions list shows it, with its thumbnail, then stops it.
    await page.getByRole("link", { name: "Sessions", exact: true }).click();
    const row = page.locator(`li.session[data-id]`, { hasText: site.url + "/" });
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    expect(await row.locator("dd").nth(4).textContent()).toBe("node");
    expect(await row.locator(".thumb iframe").count()).toBe(1);
    expect(await row.getByRole("link", { name: "Take over" }).getAttribute("href")).toContain(
      "/live/",
    );
    await row.getByRole("button", { name: "Stop" }).click();
    await expect
      .poll(() => row.locator("dd").nth(5).textContent(), { timeout: 10_000 })
      .toBe("ended: stopped by a client");
    expect(await row.locator(".thumb iframe").count()).toBe(0);
    const after = await interact(server.url, id, { code: "1" });
    expect(after.status).toBe(410);
    expect((page as any).errors).toEqual([]);
    await page.close();
  });

  test("the list updates by itself as sessions start elsewhere", async () => {
    const page = await openDashboard(server);
    const id = await scrapeId(server.url, { url: site.url + "/form" });
    await interact(server.url, id, { code: "1" });
    const row = page.locator("li.session:not(.ended)", { hasText: site.url + "/form" });
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    await page.close();
  });

  test("GET /v2/sessions answers what the list shows", async () => {
    const id = await scrapeId(server.url, { url: site.url + "/" });
    const ran = await interact(server.url, id, { code: "await page.goto(page.url() + 'about')" });
    expect(ran.status, JSON.stringify(ran.body)).toBe(200);
    const res = await fetch(`${server.url}/v2/sessions`);
    const { sessions } = (await res.json()) as any;
    const mine = sessions.find((s: any) => s.scrapeId === id);
    expect(mine).toMatchObject({
      kind: "interact",
      status: "active",
      scrapeUrl: site.url + "/",
      currentUrl: site.url + "/about",
      languages: ["node"],
      busy: false,
      endedAt: null,
    });
    expect(mine.liveViewUrl).toContain("/live/");
    expect(Date.parse(mine.expiresAt)).toBeGreaterThan(Date.now());
  });
});

describe("with authentication", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      USE_DB_AUTHENTICATION: "true",
      ALLOW_PRIVATE_NETWORK: "true",
    });
  });
  afterAll(() => server?.close());

  test("the page asks for a key and then shows only that key's team", async () => {
    const [ours, theirs] = await Promise.all([
      makeTeam(server, "ours", 100),
      makeTeam(server, "theirs", 100),
    ]);
    for (const [team, path] of [
      [ours, "/"],
      [theirs, "/form"],
    ] as const) {
      const client = teamClient(server, team.key);
      const res = await client.interact(await client.scrapeId(site.url + path));
      expect(res.status).toBe(200);
    }

    const page = await openDashboard(server);
    const keyBox = page.getByLabel("API key");
    await expect.poll(() => keyBox.isVisible()).toBe(true);
    expect(await page.getByRole("alert").textContent()).toContain("API key");
    await keyBox.fill(ours.key);
    await page.getByRole("button", { name: "Use key" }).click();
    const rows = page.locator("li.session");
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(1);
    expect(await rows.first().textContent()).toContain(site.url + "/");
    expect(await rows.first().textContent()).not.toContain(site.url + "/form");

    // The key is remembered for the next visit; a wrong key is asked again.
    await page.reload();
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(1);
    await keyBox.fill("fc-wrong");
    await page.getByRole("button", { name: "Use key" }).click();
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toContain("invalid or revoked API key");
    await page.close();
  });
});

import { chromium } from "playwright-core";
import puppeteer from "puppeteer-core";
import { expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { interact, scrapeId, stop } from "./helpers/interact.js";
import type { TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";

let server: TestServer;
let site: FixtureSite;

useServerAndSite((s) => ({ server, site } = s));

test("playwright-core connectOverCDP(cdpUrl) sees and drives the session's page", async () => {
  const id = await scrapeId(server.url, { url: `${site.url}/` });
  const first = await interact(server.url, id, { code: "await page.title()" });
  const browser = await chromium.connectOverCDP(first.body.cdpUrl);
  try {
    const page = browser
      .contexts()[0]!
      .pages()
      .find((p) => p.url().startsWith(site.url));
    expect(page).toBeDefined();
    expect(await page!.title()).toBe("Fixture Home");
    await page!.click("#btn");
    const seen = await interact(server.url, id, { code: "await page.textContent('#btn')" });
    expect(seen.body.result).toBe("clicked");
  } finally {
    await browser.close();
  }
  // Our client going away must not end the session.
  expect((await interact(server.url, id, { code: "1 + 1" })).body.result).toBe("2");
  await stop(server.url, id);
});

test("puppeteer connect({browserWSEndpoint}) works too", async () => {
  const id = await scrapeId(server.url, { url: `${site.url}/` });
  const { cdpUrl } = (await interact(server.url, id, { code: "1" })).body;
  const browser = await puppeteer.connect({ browserWSEndpoint: cdpUrl });
  try {
    const pages = await browser.pages();
    const page = pages.find((p) => p.url().startsWith(site.url));
    expect(await page!.title()).toBe("Fixture Home");
  } finally {
    await browser.disconnect();
  }
  await stop(server.url, id);
});

test("a wrong token is refused, and so is the right one after the session stops", async () => {
  const id = await scrapeId(server.url, { url: `${site.url}/` });
  const { cdpUrl } = (await interact(server.url, id, { code: "1" })).body;
  const wrong = cdpUrl.replace(/[A-Za-z0-9_-]{43}$/, "A".repeat(43));
  await expect(chromium.connectOverCDP(wrong, { timeout: 5000 })).rejects.toThrow(/404/);

  const open = await chromium.connectOverCDP(cdpUrl);
  const disconnected = new Promise<void>((r) => open.on("disconnected", () => r()));
  await stop(server.url, id);
  await disconnected; // live connections are cut when the session stops
  await expect(chromium.connectOverCDP(cdpUrl, { timeout: 5000 })).rejects.toThrow(/404/);
});

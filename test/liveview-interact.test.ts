import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { interact, scrapeId, stop } from "./helpers/interact.js";
import {
  launchViewerBrowser,
  openViewer,
  sampleCanvas,
  waitForColour,
  waitForState,
} from "./helpers/liveview.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
let site: FixtureSite;
let viewers: Browser;

beforeAll(async () => {
  [server, site, viewers] = await Promise.all([
    startTestServer(),
    startFixtureSite(),
    launchViewerBrowser(),
  ]);
});

afterAll(async () => {
  await viewers?.close();
  await server?.close();
  await site?.close();
});

/** Runs node code in the scrape's session and returns its result. */
async function run(id: string, code: string): Promise<any> {
  const res = await interact(server.url, id, { code, language: "node", timeout: 30 });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

test("the URLs from an interact response show the session, and the interactive one drives it", async () => {
  const id = await scrapeId(server.url, { url: `${site.url}/` });
  const first = await run(id, "await page.title()");
  expect(first.result).toBe("Fixture Home");
  const { liveViewUrl, interactiveLiveViewUrl } = first;

  // Both views show the session's page; changes made by code reach them.
  const view = await openViewer(viewers, liveViewUrl);
  const control = await openViewer(viewers, interactiveLiveViewUrl, { width: 720, height: 540 });
  expect((await sampleCanvas(view)).colours).toBeGreaterThan(3);
  await run(
    id,
    "await page.evaluate(() => { document.body.style.background = 'rgb(0, 120, 200)' })",
  );
  await waitForColour(view, 0.98, 0.9, [0, 120, 200]);
  await waitForColour(control, 0.98, 0.9, [0, 120, 200]);

  // Where the button is in the session's page, as fractions of its viewport.
  const where = JSON.parse(
    (
      await run(
        id,
        `const b = await page.locator('#btn').boundingBox();
         const v = await page.evaluate(() => [innerWidth, innerHeight]);
         JSON.stringify({ x: (b.x + b.width / 2) / v[0], y: (b.y + b.height / 2) / v[1] })`,
      )
    ).result,
  );
  const pointIn = (page: typeof view, at: { x: number; y: number }) =>
    page.evaluate(
      ([fx, fy]) => {
        const c = document.getElementById("screen") as HTMLCanvasElement;
        const r = c.getBoundingClientRect();
        const s = Math.min(r.width / c.width, r.height / c.height);
        const w = c.width * s;
        const h = c.height * s;
        return { x: r.left + (r.width - w) / 2 + fx! * w, y: r.top + (r.height - h) / 2 + fy! * h };
      },
      [at.x, at.y],
    );

  // Every click the session's page gets, in order.
  await run(
    id,
    `await page.evaluate(() => {
       const clicks = (window.__clicks = []);
       document.addEventListener("click", (e) => clicks.push(e.target.id || "elsewhere"));
     })`,
  );
  const clicks = async () =>
    JSON.parse(
      (await run(id, "JSON.stringify(await page.evaluate(() => window.__clicks))")).result,
    );

  // A click in the read-only view does nothing...
  const pv = await pointIn(view, where);
  await view.mouse.click(pv.x, pv.y);
  expect((await run(id, "await page.textContent('#btn')")).result).toBe("Click me");

  // ...and the same click in the interactive view presses the button. A second click where
  // there is nothing comes last: once it has landed, a click let through from the read-only
  // view, made earlier, would have too.
  const pc = await pointIn(control, where);
  await control.mouse.click(pc.x, pc.y);
  const corner = await pointIn(control, { x: 0.01, y: 0.99 });
  await control.mouse.click(corner.x, corner.y);
  await expect.poll(async () => (await clicks()).at(-1), { timeout: 10_000 }).toBe("elsewhere");
  expect(await clicks()).toEqual(["btn", "elsewhere"]);
  expect((await run(id, "await page.textContent('#btn')")).result).toBe("clicked");

  // Stopping the session ends both views and retires both URLs.
  expect((await stop(server.url, id)).status).toBe(200);
  await waitForState(view, "ended");
  await waitForState(control, "ended");
  expect((await fetch(liveViewUrl)).status).toBe(404);
  expect((await fetch(interactiveLiveViewUrl)).status).toBe(404);
});

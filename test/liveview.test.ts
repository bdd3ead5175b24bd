import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import WebSocket from "ws";
import {
  eventually,
  openViewer,
  sampleCanvas,
  startLiveViewRig,
  type LiveViewRig,
  viewerPointFor,
  waitForColour,
  waitForState,
  type SessionBrowser,
  keepPageSockets,
} from "./helpers/liveview.js";
import type { TestServer } from "./helpers/server.js";

let rig: LiveViewRig;
let server: TestServer;
let session: SessionBrowser;
let viewers: Browser;
let urls: { liveViewUrl: string; interactiveLiveViewUrl: string };

beforeAll(async () => {
  rig = await startLiveViewRig("/");
  ({ server, session, viewers } = rig);
  urls = session.urls;
});

// Viewers a test left open (it failed before closing them) must not count in the next test.
afterEach(async () => {
  await Promise.all(viewers?.contexts().map((c) => c.close()) ?? []);
});

afterAll(() => rig?.close());

async function resetButton(): Promise<void> {
  await session.page.evaluate(() => {
    document.getElementById("btn")!.textContent = "Click me";
  });
}

test("tokens are distinct, long and random; the mode comes from the token", async () => {
  const view = urls.liveViewUrl.split("/live/")[1]!;
  const control = urls.interactiveLiveViewUrl.split("/live/")[1]!;
  expect(view).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(control).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(view).not.toBe(control);
  const grant = (token: string) => {
    const found = server.services.index.byToken(token, ["view", "control"]);
    return found && { sessionId: found.acquired.session.id, use: found.use };
  };
  expect(grant(view)).toEqual({ sessionId: session.id, use: "view" });
  expect(grant(control)).toEqual({ sessionId: session.id, use: "control" });
  // Editing a character of the read-only token never gives anything, let alone control.
  const edited = view.slice(0, -1) + (view.endsWith("A") ? "B" : "A");
  expect(grant(edited)).toBeUndefined();
  // Neither opens the session's browser over CDP.
  expect(server.services.index.byToken(view, ["cdp"])).toBeUndefined();
  // Listing the session again hands out the same URLs.
  const listed = await (await fetch(`${server.url}/v2/browser`)).json();
  expect(listed.sessions.find((s: { id: string }) => s.id === session.id)).toMatchObject(urls);
});

test("the page can be embedded, loads nothing from elsewhere, and shows the session's page", async () => {
  const res = await fetch(urls.liveViewUrl);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/html");
  expect(res.headers.get("x-frame-options")).toBeNull();
  const csp = res.headers.get("content-security-policy")!;
  expect(csp).not.toContain("frame-ancestors");
  expect(csp).toContain("default-src 'none'");
  const html = await res.text();
  expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//);

  // Embedded in an iframe by a page of another origin (here an opaque one), as users do.
  const host = await viewers.newPage({ viewport: { width: 1000, height: 700 } });
  await host.setContent(
    `<iframe id="lv" src="${urls.liveViewUrl}" width="100%" height="600"></iframe>`,
  );
  const frame = (await (await host.$("#lv"))!.contentFrame())!;
  await frame.waitForFunction(() => Number(document.body.dataset.frames ?? 0) > 0);
  expect(await frame.evaluate(() => document.body.dataset.state)).toBe("live");
  await host.close();

  const viewer = await openViewer(viewers, urls.liveViewUrl);
  const shown = await sampleCanvas(viewer);
  expect(shown.width).toBeGreaterThan(100);
  expect(shown.colours).toBeGreaterThan(3); // text, button, background: not a blank picture
  await viewer.close();
});

test("the viewer follows changes in the session's page", async () => {
  const viewer = await openViewer(viewers, urls.liveViewUrl);
  await session.page.evaluate(() => (document.body.style.background = "rgb(200, 30, 30)"));
  await waitForColour(viewer, 0.98, 0.9, [200, 30, 30]);
  await session.page.evaluate(() => (document.body.style.background = "rgb(20, 40, 220)"));
  await waitForColour(viewer, 0.98, 0.9, [20, 40, 220]);
  await session.page.evaluate(() => (document.body.style.background = ""));
  await viewer.close();
});

test("a click in the interactive view reaches the session's page", async () => {
  await resetButton();
  const viewer = await openViewer(viewers, urls.interactiveLiveViewUrl, {
    width: 700,
    height: 520,
  });
  expect(await viewer.evaluate(() => document.body.dataset.mode)).toBe("control");
  const p = await viewerPointFor(session.page, viewer, "#btn");
  await viewer.mouse.click(p.x, p.y);
  await expect.poll(() => session.page.textContent("#btn"), { timeout: 10_000 }).toBe("clicked");
  await viewer.close();
});

test("the read-only view changes nothing, even when its page is made to send input", async () => {
  await resetButton();
  // Every click the session's page gets, in order: one from the read-only view would show here.
  await session.page.evaluate(() => {
    const clicks: string[] = ((window as any).__clicks = []);
    document.addEventListener("click", (e) => clicks.push((e.target as Element).id || "elsewhere"));
  });
  const viewer: Page = await viewers.newPage({ viewport: { width: 700, height: 520 } });
  // Stand-in for a viewer who edits the page's script: keep hold of the page's own socket.
  await keepPageSockets(viewer);
  await viewer.goto(urls.liveViewUrl);
  await waitForState(viewer, "live");
  await viewer.waitForFunction(() => Number(document.body.dataset.frames ?? 0) > 0);

  const p = await viewerPointFor(session.page, viewer, "#btn");
  await viewer.mouse.click(p.x, p.y);
  await viewer.keyboard.press("Enter");

  // The button's position as a fraction of the frame, sent as a control viewer would.
  const box = (await session.page.locator("#btn").boundingBox())!;
  const vp = await session.page.evaluate(() => [window.innerWidth, window.innerHeight]);
  const at = { x: (box.x + box.width / 2) / vp[0]!, y: (box.y + box.height / 2) / vp[1]! };
  const clickAt = (where: { x: number; y: number }) => [
    { type: "mouse", action: "down", ...where, button: "left", buttons: 1, clickCount: 1 },
    { type: "mouse", action: "up", ...where, button: "left", buttons: 0, clickCount: 1 },
  ];
  const click = clickAt(at);
  // Sends the messages, then closes the socket: the server answers the close only once it has
  // read everything sent before it.
  await viewer.evaluate(async (msgs) => {
    const ws = (window as any).__sockets.at(-1) as WebSocket;
    for (const m of msgs) ws.send(JSON.stringify(m));
    await new Promise((resolve) => {
      ws.addEventListener("close", resolve);
      ws.close();
    });
  }, click);
  expect(await session.page.textContent("#btn")).toBe("Click me");

  // The very same messages on an interactive connection do click: the server alone decides.
  const control = urls.interactiveLiveViewUrl.replace(/^http/, "ws") + "/ws";
  const ws = new WebSocket(control);
  await new Promise<void>((resolve, reject) => {
    ws.on("message", (data, binary) => binary && resolve());
    ws.on("error", reject);
  });
  // Then a click where there is nothing: input reaches the page in the order the server read
  // it, so once this one has landed, anything the read-only view got through would have too.
  for (const m of [...click, ...clickAt({ x: 0.01, y: 0.99 })]) ws.send(JSON.stringify(m));
  await expect
    .poll(() => session.page.evaluate(() => (window as any).__clicks.at(-1)), { timeout: 10_000 })
    .toBe("elsewhere");
  expect(await session.page.evaluate(() => (window as any).__clicks)).toEqual(["btn", "elsewhere"]);
  expect(await session.page.textContent("#btn")).toBe("clicked");
  ws.close();
  await viewer.close();
});

test("several viewers share one stream, which stops when the last one leaves", async () => {
  const pages = await Promise.all([
    openViewer(viewers, urls.liveViewUrl),
    openViewer(viewers, urls.liveViewUrl, { width: 400, height: 300 }),
    openViewer(viewers, urls.interactiveLiveViewUrl),
  ]);
  // The screencast starts a moment after the first viewer joins.
  const live = await eventually(
    async () => server.services.liveview.stats(),
    (s) => s.viewers === 3 && s.streaming === 1,
  );
  expect(live).toMatchObject({ viewers: 3, streaming: 1 });
  await session.page.evaluate(() => (document.body.style.background = "rgb(30, 160, 40)"));
  for (const viewer of pages) await waitForColour(viewer, 0.98, 0.9, [30, 160, 40]);
  await session.page.evaluate(() => (document.body.style.background = ""));
  for (const viewer of pages) await viewer.close();
  const stats = await eventually(
    async () => server.services.liveview.stats(),
    (s) => s.viewers === 0 && s.streaming === 0,
  );
  expect(stats).toMatchObject({ viewers: 0, streaming: 0 });
});

test("unknown tokens get a plain 404, for the page and the socket", async () => {
  const res = await fetch(`${server.url}/live/${"x".repeat(43)}`);
  expect(res.status).toBe(404);
  expect(await res.text()).toContain("404");
  const status = await upgradeStatus(`${server.url}/live/${"x".repeat(43)}/ws`);
  expect(status).toBe(404);
});

test("once the session stops the viewer says it ended and both URLs answer 404", async () => {
  const viewView = await openViewer(viewers, urls.liveViewUrl);
  const controlView = await openViewer(viewers, urls.interactiveLiveViewUrl);
  await session.close();
  await waitForState(viewView, "ended");
  await waitForState(controlView, "ended");
  expect(await viewView.locator("#banner").isVisible()).toBe(true);
  expect(await viewView.textContent("#status")).toBe("Session ended");
  for (const url of [urls.liveViewUrl, urls.interactiveLiveViewUrl]) {
    expect((await fetch(url)).status).toBe(404);
    expect(await upgradeStatus(url + "/ws")).toBe(404);
  }
  expect(server.services.liveview.stats()).toMatchObject({ sessions: 0, viewers: 0 });
  // A reload of the ended page shows the 404 page, not a live view.
  expect((await controlView.reload())!.status()).toBe(404);
});

function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace(/^http/, "ws"));
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("open", () => {
      ws.close();
      resolve(101);
    });
    ws.on("error", () => resolve(-1));
  });
}

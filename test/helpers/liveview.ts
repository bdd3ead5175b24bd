import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { CHROMIUM_FLAGS } from "../../src/chromium/flags.js";
import { findChromium } from "../../src/chromium/find-chromium.js";
import { startFixtureSite, type FixtureSite } from "./fixture-site.js";
import { postJson, startTestServer, type TestServer } from "./server.js";

/** A live /v2/browser session, driven from the test over its cdpUrl like a user's Playwright. */
export interface SessionBrowser {
  id: string;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  urls: { liveViewUrl: string; interactiveLiveViewUrl: string };
  /** Kills the session's browser under it, as a crash would. */
  crash(): Promise<void>;
  /** Stops the session (DELETE), as its user would. */
  close(): Promise<void>;
}

/** Starts a browser session on `server` (it lives an hour, idle or not) and connects to it. */
export async function startSessionBrowser(server: TestServer): Promise<SessionBrowser> {
  const made = await postJson(`${server.url}/v2/browser`, { ttl: 3600, activityTtl: 3600 });
  if (made.status !== 200) throw new Error(`no session: ${JSON.stringify(made.body)}`);
  const { id, cdpUrl, liveViewUrl, interactiveLiveViewUrl } = made.body;
  const browser = await chromium.connectOverCDP(cdpUrl);
  const context = browser.contexts()[0]!;
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    id,
    browser,
    context,
    page,
    urls: { liveViewUrl, interactiveLiveViewUrl },
    crash: async () => {
      await server.services.sessions
        .list()
        .find((s) => s.id === id)
        ?.resources.proc.kill();
    },
    close: async () => {
      await browser.close().catch(() => {});
      await fetch(`${server.url}/v2/browser/${id}`, { method: "DELETE" });
    },
  };
}

/** What a live view test file runs against: a server, the fixture site, a session, viewers. */
export interface LiveViewRig {
  server: TestServer;
  site: FixtureSite;
  session: SessionBrowser;
  /** The browser the people watching use. */
  viewers: Browser;
  close(): Promise<void>;
}

/** Starts the rig with the session's tab at `page` of the fixture site. */
export async function startLiveViewRig(page: string): Promise<LiveViewRig> {
  const [server, site, viewers] = await Promise.all([
    // The fixture site is on loopback: the session's browser may reach it.
    startTestServer({ ALLOW_PRIVATE_NETWORK: "true" }),
    startFixtureSite(),
    launchViewerBrowser(),
  ]);
  const session = await startSessionBrowser(server);
  await session.page.goto(site.url + page);
  return {
    server,
    site,
    session,
    viewers,
    close: async () => {
      await viewers.close();
      await session.close();
      await server.close();
      await site.close();
    },
  };
}

/** The browser a person watching the live view would use: a second, separate Chromium. */
export function launchViewerBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(undefined),
    args: CHROMIUM_FLAGS.filter((f) => !f.startsWith("--headless")),
  });
}

/** Opens a live-view URL and waits until it shows at least one frame. */
export async function openViewer(
  browser: Browser,
  url: string,
  size = { width: 900, height: 600 },
): Promise<Page> {
  const page = await browser.newPage({ viewport: size });
  await page.goto(url);
  await waitForState(page, "live");
  await page.waitForFunction(() => Number(document.body.dataset.frames ?? 0) > 0);
  return page;
}

export async function waitForState(page: Page, state: string, timeout = 15_000): Promise<void> {
  await page.waitForFunction((s) => document.body.dataset.state === s, state, { timeout });
}

/** How many frames the viewer has drawn so far. */
export async function framesDrawn(page: Page): Promise<number> {
  return page.evaluate(() => Number(document.body.dataset.frames ?? 0));
}

export interface CanvasSample {
  width: number;
  height: number;
  /** Number of distinct colours among sampled pixels (1 means a blank, uniform picture). */
  colours: number;
  /** Average colour over the picture. */
  mean: [number, number, number];
  /** Colour at a point given as fractions of the frame. */
  at: (x: number, y: number) => Promise<[number, number, number]>;
}

/** Reads the pixels the viewer's canvas actually shows. */
export async function sampleCanvas(page: Page): Promise<CanvasSample> {
  const s = await page.evaluate(() => {
    const c = document.getElementById("screen") as HTMLCanvasElement;
    const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    const sum = [0, 0, 0];
    let n = 0;
    for (let i = 0; i < d.length; i += 4 * 97) {
      seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      sum[0]! += d[i]!;
      sum[1]! += d[i + 1]!;
      sum[2]! += d[i + 2]!;
      n++;
    }
    return {
      width: c.width,
      height: c.height,
      colours: seen.size,
      mean: sum.map((v) => Math.round(v / Math.max(1, n))) as [number, number, number],
    };
  });
  return {
    ...s,
    at: (x, y) =>
      page.evaluate(
        ([fx, fy]) => {
          const c = document.getElementById("screen") as HTMLCanvasElement;
          const px = Math.min(c.width - 1, Math.floor(fx! * c.width));
          const py = Math.min(c.height - 1, Math.floor(fy! * c.height));
          const d = c.getContext("2d")!.getImageData(px, py, 1, 1).data;
          return [d[0]!, d[1]!, d[2]!] as [number, number, number];
        },
        [x, y],
      ),
  };
}

/** Waits until the colour the viewer shows at a point is close to the expected one. */
export async function waitForColour(
  viewer: Page,
  x: number,
  y: number,
  rgb: [number, number, number],
  timeout = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeout;
  let last: number[] = [];
  while (Date.now() < deadline) {
    last = await (await sampleCanvas(viewer)).at(x, y);
    if (last.every((v, i) => Math.abs(v - rgb[i]!) < 24)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `viewer shows rgb(${last.join(",")}) at ${x},${y}, expected rgb(${rgb.join(",")})`,
  );
}

/**
 * Where, in the viewer page's coordinates, the centre of an element of the session page is shown.
 * Accounts for the frame being scaled and letterboxed to fit the viewer.
 */
export async function viewerPointFor(
  session: Page,
  viewer: Page,
  selector: string,
): Promise<{ x: number; y: number }> {
  const box = (await session.locator(selector).boundingBox())!;
  const vp = await session.evaluate(() => ({ w: window.innerWidth, h: window.innerHeight }));
  const fx = (box.x + box.width / 2) / vp.w;
  const fy = (box.y + box.height / 2) / vp.h;
  return viewer.evaluate(
    ([px, py]) => {
      const c = document.getElementById("screen") as HTMLCanvasElement;
      const r = c.getBoundingClientRect();
      const scale = Math.min(r.width / c.width, r.height / c.height);
      const w = c.width * scale;
      const h = c.height * scale;
      return { x: r.left + (r.width - w) / 2 + px! * w, y: r.top + (r.height - h) / 2 + py! * h };
    },
    [fx, fy],
  );
}

/** Polls a condition until it holds. */
export async function eventually<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeout = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Makes a viewer page keep hold of every WebSocket it opens, in `window.__sockets`, so a test
 * can act as a viewer who edits the page's script (send on, or drop, the page's own socket).
 */
export async function keepPageSockets(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const Native = window.WebSocket;
    (window as any).__sockets = [];
    window.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        (window as any).__sockets.push(this);
      }
    } as any;
  });
}

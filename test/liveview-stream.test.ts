import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import WebSocket from "ws";
import { decodeFrame } from "../src/liveview/protocol.js";
import type { FixtureSite } from "./helpers/fixture-site.js";
import {
  openViewer,
  startLiveViewRig,
  startSessionBrowser,
  type LiveViewRig,
  waitForColour,
  waitForState,
  type SessionBrowser,
  keepPageSockets,
} from "./helpers/liveview.js";
import type { TestServer } from "./helpers/server.js";

let rig: LiveViewRig;
let server: TestServer;
let site: FixtureSite;
let session: SessionBrowser;
let viewers: Browser;
let urls: { liveViewUrl: string; interactiveLiveViewUrl: string };

beforeAll(async () => {
  rig = await startLiveViewRig("/");
  ({ server, site, session, viewers } = rig);
  urls = session.urls;
});

afterAll(() => rig?.close());

/** A viewer in Node: counts frames and remembers the last JPEG and metadata. */
interface RawViewer {
  /** `ts` is the stream's own timestamp: when the server got the frame from Chromium. */
  frames: { seq: number; ts: number; width: number; bytes: number }[];
  meta: any[];
  close(): void;
}

async function rawViewer(url: string, query = ""): Promise<RawViewer> {
  const ws = new WebSocket(url.replace(/^http/, "ws") + "/ws" + query);
  const v: RawViewer = { frames: [], meta: [], close: () => ws.close() };
  ws.on("message", (data: Buffer, binary) => {
    if (!binary) {
      const msg = JSON.parse(data.toString());
      if (msg.type === "meta") v.meta.push(msg);
      return;
    }
    const { header, jpeg } = decodeFrame(data);
    v.frames.push({
      seq: header.seq,
      ts: header.ts,
      width: jpegWidth(jpeg),
      bytes: data.length,
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return v;
}

/** Width from the JPEG's start-of-frame marker. */
function jpegWidth(jpeg: Buffer): number {
  for (let i = 2; i < jpeg.length - 9;) {
    const marker = jpeg[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xc3) return jpeg.readUInt16BE(i + 7);
    i += 2 + jpeg.readUInt16BE(i + 2);
  }
  return 0;
}

/**
 * The most frames a viewer capped at `fps` can have been sent, read from the stream's own
 * timestamps (`ts`, the server's clock when each frame came from Chromium) rather than from how
 * long the test waited, so a slow or loaded machine cannot make it pass or fail. The viewer sends
 * frame i at s(i), at least 1000/fps ms after s(i-1). Every frame but the first (the picture on
 * show when it connected) came from Chromium after the one before it went out, or it would have
 * replaced that one: ts(i) >= s(i-1), and ts(2) <= s(2). So ts(n) - ts(2) >= (n - 3) * 1000/fps.
 */
function mostFrames(ts: number[], fps: number): number {
  if (ts.length < 2) return 2;
  return Math.floor(((ts.at(-1)! - ts[1]!) * fps) / 1000) + 3;
}

/** Frames whose stream timestamp falls in [from, to]. */
const framesBetween = (v: RawViewer, from: number, to: number) =>
  v.frames.filter((f) => f.ts >= from && f.ts <= to).length;

/** Opens a live-view page that also records the stream timestamp of every frame it receives. */
async function timedViewer(url: string): Promise<Page> {
  const page = await viewers.newPage({ viewport: { width: 900, height: 600 } });
  await page.addInitScript(() => {
    const received: number[] = ((window as any).__frameTs = []);
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(u: string | URL, protocols?: string | string[]) {
        super(u, protocols);
        this.addEventListener("message", (e) => {
          if (typeof e.data === "string") return;
          const buf = e.data as ArrayBuffer;
          const n = new DataView(buf).getUint32(0);
          received.push(JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n))).ts);
        });
      }
    } as any;
  });
  await page.goto(url);
  await waitForState(page, "live");
  await page.waitForFunction(() => Number(document.body.dataset.frames ?? 0) > 0);
  return page;
}

/** Changes the page's colour on every animation frame for `ms`, then settles on `final`. */
function animate(ms: number, final: string): Promise<void> {
  return session.page.evaluate(
    ([duration, end]) =>
      new Promise<void>((resolve) => {
        const start = performance.now();
        const step = () => {
          const t = performance.now() - start;
          document.body.style.background = `hsl(${(t / 3) % 360}, 80%, 50%)`;
          if (t < duration!) requestAnimationFrame(step);
          else {
            document.body.style.background = end!;
            resolve();
          }
        };
        requestAnimationFrame(step);
      }),
    [ms, final] as const,
  );
}

test("frame rate is bounded per viewer, and the last picture always arrives", async () => {
  const slow = await rawViewer(urls.liveViewUrl, "?fps=2");
  const normal = await rawViewer(urls.liveViewUrl); // default 10 fps
  const page = await timedViewer(urls.liveViewUrl + "?fps=3");
  await expect
    .poll(() => Math.min(slow.frames.length, normal.frames.length), { timeout: 10_000 })
    .toBeGreaterThan(0);

  // The server runs in this process: its frame timestamps and this clock are the same clock.
  const animating = Date.now();
  await animate(2000, "rgb(10, 200, 120)");
  const animated = Date.now();
  // Even at 3 fps the viewer ends on the page's final state, not a frame from mid-animation.
  await waitForColour(page, 0.98, 0.9, [10, 200, 120]);

  // Frames kept coming while the page changed, each viewer at its own rate.
  const slowCount = framesBetween(slow, animating, animated);
  const normalCount = framesBetween(normal, animating, animated);
  expect(slowCount).toBeGreaterThan(1);
  expect(normalCount).toBeGreaterThan(slowCount);
  // And no viewer got more than its rate allows, over everything it was sent.
  const ts = (v: RawViewer) => v.frames.map((f) => f.ts);
  expect(slow.frames.length).toBeLessThanOrEqual(mostFrames(ts(slow), 2));
  expect(normal.frames.length).toBeLessThanOrEqual(mostFrames(ts(normal), 10));
  // Read together: a frame that came in between would be drawn but not counted.
  const shown = await page.evaluate(() => ({
    ts: [...((window as any).__frameTs as number[])],
    drawn: Number(document.body.dataset.frames),
  }));
  expect(shown.ts.length).toBeLessThanOrEqual(mostFrames(shown.ts, 3));
  expect(shown.drawn).toBeLessThanOrEqual(mostFrames(shown.ts, 3));

  slow.close();
  normal.close();
  await page.close();
  await session.page.evaluate(() => (document.body.style.background = ""));
});

test("quality, fps and size come from the URL and are clamped", async () => {
  // Viewers of the test before are gone: the stream is started for this one's settings alone.
  await expect.poll(() => server.services.liveview.stats().viewers).toBe(0);
  const small = await rawViewer(urls.liveViewUrl, "?maxWidth=320&quality=30");
  await session.page.evaluate(() => (document.body.style.background = "rgb(1, 2, 3)"));
  // The first frame may be the picture on show from before; the next ones are 320 wide.
  await expect.poll(() => small.frames.at(-1)?.width, { timeout: 5000 }).toBe(320);
  small.close();
  await expect.poll(() => server.services.liveview.stats().viewers).toBe(0);

  const silly = await rawViewer(urls.liveViewUrl, "?maxWidth=5&quality=900&fps=-4");
  await session.page.evaluate(() => (document.body.style.background = "rgb(9, 8, 7)"));
  // The first frame may be the picture on show from before; the next ones are 160 wide.
  await expect.poll(() => silly.frames.at(-1)?.width, { timeout: 5000 }).toBe(160);
  silly.close();
  await session.page.evaluate(() => (document.body.style.background = ""));
});

test("the viewer follows the tab the session opens, and falls back when it closes", async () => {
  const watcher = await rawViewer(urls.liveViewUrl);
  const page = await openViewer(viewers, urls.liveViewUrl);
  await expect.poll(() => watcher.meta.at(-1)?.url).toBe(site.url + "/");
  expect(watcher.meta.at(-1)).toMatchObject({ title: "Fixture Home" });
  expect(watcher.meta.at(-1).viewport.width).toBeGreaterThan(0);

  const tab = await session.context.newPage();
  await tab.goto(site.url + "/form");
  await tab.evaluate(() => (document.body.style.background = "rgb(240, 200, 0)"));
  await expect.poll(() => watcher.meta.at(-1)?.url, { timeout: 10_000 }).toBe(site.url + "/form");
  await waitForColour(page, 0.98, 0.9, [240, 200, 0]);

  await tab.close();
  await expect.poll(() => watcher.meta.at(-1)?.url, { timeout: 10_000 }).toBe(site.url + "/");
  await waitForColour(page, 0.98, 0.9, [255, 255, 255]);

  // Navigations of the tab on show update the URL and title the viewer shows.
  await session.page.goto(site.url + "/form");
  await expect.poll(() => page.title(), { timeout: 10_000 }).toContain("Form");
  watcher.close();
  await page.close();
});

test("a viewer that connects while others watch gets the current picture at once", async () => {
  const first = await rawViewer(urls.liveViewUrl);
  await expect.poll(() => first.frames.length).toBeGreaterThan(0);
  const second = await rawViewer(urls.liveViewUrl);
  await expect.poll(() => second.frames.length, { timeout: 2000 }).toBeGreaterThan(0);
  first.close();
  second.close();
});

test("a viewer whose connection drops reconnects and goes on showing the page", async () => {
  const page = await viewers.newPage({ viewport: { width: 640, height: 480 } });
  await keepPageSockets(page);
  await page.goto(urls.liveViewUrl);
  await waitForState(page, "live");
  const states: string[] = [];
  await page.exposeFunction("__state", (s: string) => states.push(s));
  await page.evaluate(() => {
    new MutationObserver(() => (window as any).__state(document.body.dataset.state)).observe(
      document.body,
      { attributes: true, attributeFilter: ["data-state"] },
    );
    (window as any).__sockets.at(-1).close();
  });
  await waitForState(page, "reconnecting");
  await waitForState(page, "live");
  expect(states.slice(0, 2)).toEqual(["reconnecting", "live"]);
  expect(await page.evaluate(() => (window as any).__sockets.length)).toBe(2);
  await session.page.evaluate(() => (document.body.style.background = "rgb(90, 0, 160)"));
  await waitForColour(page, 0.98, 0.9, [90, 0, 160]);
  await session.page.evaluate(() => (document.body.style.background = ""));
  await page.close();
});

test("when the session's browser dies, viewers are told the session ended", async () => {
  const doomed = await startSessionBrowser(server);
  try {
    await doomed.page.goto(site.url + "/");
    const own = doomed.urls;
    const page = await openViewer(viewers, own.liveViewUrl);
    await doomed.crash();
    await waitForState(page, "ended");
    expect((await fetch(own.liveViewUrl)).status).toBe(404);
    expect((await fetch(own.interactiveLiveViewUrl)).status).toBe(404);
    await page.close();
  } finally {
    await doomed.close();
  }
});

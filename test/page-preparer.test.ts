import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { ChromiumProcess } from "../src/chromium/chromium-process.js";
import { PagePreparer, type TargetSetup } from "../src/chromium/page-preparer.js";
import { testLauncher } from "./helpers/browsers.js";

/**
 * The generic mechanism against real Chromium: a page opened by anyone is prepared before its
 * first script, while other clients (Playwright here, twice) also hold new pages with
 * waitForDebuggerOnStart.
 */

/** Records, in its first script, what the page saw of the emulation and when it ran. */
const PROBE = `<!doctype html><html><head><script>
window.__first = { t: Date.now(), tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
  locale: Intl.DateTimeFormat().resolvedOptions().locale, ua: navigator.userAgent };
</script></head><body><a id="blank" target="_blank" href="/probe?via=link">open</a>
</body></html>`;

function startSite(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    res.writeHead(200, { "content-type": "text/html" });
    if (url.pathname === "/frame-host") {
      const src = url.searchParams.get("src") ?? "";
      return void res.end(`<iframe src="${src.replace(/"/g, "")}"></iframe>`);
    }
    res.end(PROBE);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    ),
  );
}

const TOKYO: TargetSetup = {
  browser: [],
  page: [
    {
      method: "Emulation.setTimezoneOverride",
      params: { timezoneId: "Asia/Tokyo" },
      alreadySet: "Timezone override is already in effect",
    },
    {
      method: "Emulation.setLocaleOverride",
      params: { locale: "ja-JP" },
      alreadySet: "Another locale override is already in effect",
    },
    { method: "Emulation.setUserAgentOverride", params: { userAgent: "Prepared/1.0" } },
  ],
  frame: [
    {
      method: "Emulation.setTimezoneOverride",
      params: { timezoneId: "Asia/Tokyo" },
      alreadySet: "Timezone override is already in effect",
    },
    {
      method: "Emulation.setLocaleOverride",
      params: { locale: "ja-JP" },
      alreadySet: "Another locale override is already in effect",
    },
  ],
  events: [],
};

let site: Awaited<ReturnType<typeof startSite>>;
let proc: ChromiumProcess;
let server: Browser; // the server's own Playwright connection, as the launcher makes it
let user: Browser; // a second client, as user code connects
let preparer: PagePreparer;

beforeAll(async () => {
  site = await startSite();
  ({ proc, browser: server } = await testLauncher().launch());
  preparer = await PagePreparer.start(proc.cdp, TOKYO, 10_000);
  const dir = fs.mkdtempSync("/tmp/fcb-prep-");
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  const endpoint = await proc.cdp.listen(path.join(dir, "cdp.sock"), { maxMessageBytes: 1 << 24 });
  user = await chromium.connectOverCDP(endpoint.url);
});
afterAll(async () => {
  await proc?.kill();
  await site?.close();
});

const first = async (p: Page) => {
  await p.waitForLoadState();
  return (await p.evaluate("window.__first")) as {
    t: number;
    tz: string;
    lang: string;
    ua: string;
  };
};
const PREPARED = { tz: "Asia/Tokyo", locale: "ja-JP", ua: "Prepared/1.0" };

test("a tab opened by another client is prepared before its first script", async () => {
  const page = await user.contexts()[0]!.newPage();
  await page.goto(`${site.url}/probe?via=newPage`);
  expect(await first(page)).toMatchObject(PREPARED);
});

test("a target=_blank link and window.open give prepared tabs, with or without an opener", async () => {
  const context = user.contexts()[0]!;
  const page = await context.newPage();
  await page.goto(`${site.url}/probe`);
  const [link] = await Promise.all([context.waitForEvent("page"), page.click("#blank")]);
  expect(await first(link)).toMatchObject(PREPARED);
  const [opened] = await Promise.all([
    context.waitForEvent("page"),
    page.evaluate("window.open('/probe?via=open'), 1"),
  ]);
  expect(await first(opened)).toMatchObject(PREPARED);
  const [noopener] = await Promise.all([
    context.waitForEvent("page"),
    page.evaluate("window.open('/probe?via=noopener', '_blank', 'noopener'), 1"),
  ]);
  expect(await first(noopener)).toMatchObject(PREPARED);
});

test("an iframe from another site, in a process of its own, is prepared too", async () => {
  const page = await user.contexts()[0]!.newPage();
  const other = site.url.replace("127.0.0.1", "localhost");
  await page.goto(`${site.url}/frame-host?src=${encodeURIComponent(`${other}/probe?via=frame`)}`);
  const frame = page.frames().find((f) => f.url().includes("via=frame"))!;
  await expect.poll(() => frame.evaluate("!!window.__first")).toBe(true);
  const seen = (await frame.evaluate("window.__first")) as { tz: string; locale: string };
  expect(seen).toMatchObject({ tz: PREPARED.tz, locale: PREPARED.locale });
});

test("a new page waits for the slowest client holding it", async () => {
  // A raw client that holds every new page for 800 ms, as a slow CDP user could.
  let resumedAt = 0;
  let nextId = 1;
  const ATTACH_ID = nextId++;
  let attached!: () => void;
  const attaching = new Promise<void>((r) => (attached = r));
  const conn = proc.cdp.connect((text) => {
    const msg = JSON.parse(text);
    if (msg.id === ATTACH_ID) attached();
    if (msg.method !== "Target.attachedToTarget" || !msg.params.waitingForDebugger) return;
    setTimeout(() => {
      resumedAt = Date.now();
      conn.send(
        JSON.stringify({
          id: nextId++,
          method: "Runtime.runIfWaitingForDebugger",
          sessionId: msg.params.sessionId,
        }),
      );
    }, 800);
  });
  const filter = [{ type: "page" }];
  const attach = { autoAttach: true, waitForDebuggerOnStart: true, flatten: true, filter };
  conn.send(JSON.stringify({ id: ATTACH_ID, method: "Target.setAutoAttach", params: attach }));
  try {
    // Chromium answers once auto-attach is on: from then on it holds every new page for us too.
    await attaching;
    const context = server.contexts()[0]!;
    const opener = await context.newPage();
    await opener.goto(`${site.url}/probe`);
    const [popup] = await Promise.all([
      context.waitForEvent("page"),
      opener.evaluate("window.open('/probe?via=slow'), 1"),
    ]);
    const seen = await first(popup);
    expect(resumedAt).toBeGreaterThan(0);
    expect(seen.t).toBeGreaterThanOrEqual(resumedAt);
    expect(seen).toMatchObject(PREPARED);
  } finally {
    conn.close();
  }
});

test("a popup keeps locale and time zone when its opener, which set them first, closes", async () => {
  const context = user.contexts()[0]!;
  const opener = await context.newPage();
  await opener.goto(`${site.url}/probe`);
  const [popup] = await Promise.all([
    context.waitForEvent("page"),
    opener.evaluate("window.open('/probe?via=orphan'), 1"),
  ]);
  await first(popup);
  const now =
    "[Intl.DateTimeFormat().resolvedOptions().locale, Intl.DateTimeFormat().resolvedOptions().timeZone]";
  expect(await popup.evaluate(now)).toEqual([PREPARED.locale, PREPARED.tz]);
  void opener.close();
  await expect.poll(() => popup.evaluate(now)).toEqual([PREPARED.locale, PREPARED.tz]);
  await popup.reload();
  expect(await popup.evaluate(now)).toEqual([PREPARED.locale, PREPARED.tz]);
});

test("start fails when a browser command fails; a closed preparer prepares nothing", async () => {
  const broken = { ...TOKYO, browser: [{ method: "Nope.nothing", params: {} }] };
  await expect(PagePreparer.start(proc.cdp, broken, 5_000)).rejects.toThrow(/Nope\.nothing/);

  preparer.close();
  const page = await user.contexts()[0]!.newPage();
  await page.goto(`${site.url}/probe?via=after-close`);
  expect((await first(page)).ua).not.toBe(PREPARED.ua);
});

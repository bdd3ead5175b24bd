import path from "node:path";
import SQLite from "better-sqlite3";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { interact, scrapeId, stop } from "./helpers/interact.js";
import { launchViewerBrowser } from "./helpers/liveview.js";
import { startMain } from "./helpers/main-process.js";
import { postJson, startTestServer, tempDataDir, type TestServer } from "./helpers/server.js";

// What an ended session did stays listed: languages, calls, where it was last, how long it
// lived, what it was billed and why it ended, from the shared record (after a restart too).

let site: FixtureSite;
beforeAll(async () => {
  site = await startFixtureSite();
});
afterAll(() => site?.close());

/** node goes to /about, python to /form, bash runs, node again: four calls in three languages. */
async function useEveryLanguage(serverUrl: string, id: string): Promise<void> {
  const calls = [
    { code: "await page.goto(page.url() + 'about'); await page.title()" },
    { code: `await page.goto(${JSON.stringify(site.url + "/form")})`, language: "python" },
    { code: "echo ran", language: "bash" },
    { code: "await page.title()" },
  ];
  for (const call of calls) {
    const res = await interact(serverUrl, id, call);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.exitCode, JSON.stringify(res.body)).toBe(0);
  }
}

async function listed(serverUrl: string, id: string): Promise<any> {
  const res = await fetch(`${serverUrl}/v2/sessions`);
  expect(res.status).toBe(200);
  const { sessions } = (await res.json()) as { sessions: any[] };
  return sessions.find((s) => s.scrapeId === id);
}

/** A duration as the dashboard writes one under an hour: "42s", "1m 05s". */
function shownDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
}

describe("a stopped session", () => {
  let server: TestServer;
  let browser: Browser;
  let id: string;
  let stopped: { status: number; body: any };
  beforeAll(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchViewerBrowser()]);
    id = await scrapeId(server.url, { url: site.url + "/" });
    await useEveryLanguage(server.url, id);
    stopped = await stop(server.url, id);
    expect(stopped.status).toBe(200);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test("GET /v2/sessions lists what it used, its calls, last URL, duration, bill and end", async () => {
    const mine = await listed(server.url, id);
    expect(mine).toMatchObject({
      status: "destroyed",
      endReason: "stopped",
      languages: ["node", "python", "bash"],
      calls: 4,
      currentUrl: null,
      lastUrl: site.url + "/form",
      durationMs: stopped.body.sessionDurationMs,
      // Without authentication nothing is charged: what it would have cost, as DELETE said.
      creditsBilled: stopped.body.creditsBilled,
      recorded: false,
      files: 0,
      cdpUrl: null,
    });
    expect(mine.creditsBilled).toBeGreaterThan(0);
  });

  test("a browser session under zero data retention keeps no address it was on", async () => {
    const made = await postJson(`${server.url}/v2/browser`, { zeroDataRetention: true });
    expect(made.status).toBe(200);
    const id: string = made.body.id;
    const code = `await page.goto(${JSON.stringify(site.url + "/form")})`;
    const ran = await postJson(`${server.url}/v2/browser/${id}/execute`, {
      code,
      language: "node",
    });
    expect(ran.status).toBe(200);
    expect((await fetch(`${server.url}/v2/browser/${id}`, { method: "DELETE" })).status).toBe(200);
    const res = await fetch(`${server.url}/v2/sessions`);
    const { sessions } = (await res.json()) as { sessions: any[] };
    expect(sessions.find((s) => s.id === id)).toMatchObject({
      status: "destroyed",
      languages: ["node"],
      calls: 1,
      lastUrl: null,
    });
  });

  test("the dashboard's list shows it", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(`${server.url}/`);
      const row = page.locator("li.session.ended", { hasText: site.url + "/form" });
      await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
      const shown = async () =>
        Object.fromEntries(
          await row
            .locator("dl.fields dt:visible")
            .evaluateAll((dts) =>
              dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]),
            ),
        );
      const credits = stopped.body.creditsBilled;
      expect(await shown()).toEqual({
        Scraped: site.url + "/",
        "Last on": site.url + "/form",
        Lasted: shownDuration(stopped.body.sessionDurationMs),
        Idle: "—",
        Used: "node, python, bash",
        State: "ended: stopped by a client",
        Calls: "4",
        Credits: `${credits} ${credits === 1 ? "credit" : "credits"}`,
      });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

test("a session live when its server was killed keeps, after the restart, what it had done", async () => {
  const dataDir = tempDataDir();
  const main = await startMain({ DATA_DIR: dataDir, LOG_LEVEL: "warn" });
  let id: string;
  try {
    id = await scrapeId(main.url, { url: site.url + "/" });
    await useEveryLanguage(main.url, id);
    // The languages are written as each first runs (with the calls and address then); the
    // last call only with the heartbeat (every 15 s while sessions live).
    const db = new SQLite(path.join(dataDir, "server.db"), { readonly: true });
    try {
      const row = () =>
        db.prepare("select languages, calls, last_url from sessions where scrape_id = ?").get(id);
      await expect
        .poll(row, { timeout: 45_000, interval: 250 })
        .toEqual({ languages: "node,python,bash", calls: 4, last_url: site.url + "/form" });
    } finally {
      db.close();
    }
  } finally {
    await main.kill();
  }

  const next = await startTestServer({ DATA_DIR: dataDir });
  try {
    const mine = await listed(next.url, id);
    expect(mine).toMatchObject({
      status: "destroyed",
      endReason: "server_restarted",
      languages: ["node", "python", "bash"],
      calls: 4,
      lastUrl: site.url + "/form",
      currentUrl: null,
    });
    // It lived until it was last seen alive; what that would have cost is kept once settled.
    expect(mine.durationMs).toBe(Date.parse(mine.endedAt) - Date.parse(mine.createdAt));
    expect(mine.durationMs).toBeGreaterThan(0);
    expect(mine.creditsBilled).toBeGreaterThan(0);
  } finally {
    await next.close();
  }
});

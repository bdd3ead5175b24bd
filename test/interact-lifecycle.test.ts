import { afterAll, beforeAll, expect, test } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { interact, pidsMentioning, scrapeId, stop } from "./helpers/interact.js";
import { groupPids } from "./helpers/browsers.js";
import { killGroup } from "../src/processes/signal.js";
import { startTestServer, tempDataDir, waitFor } from "./helpers/server.js";

let site: FixtureSite;
/**
 * One data directory for the servers of the tests below that only need a scrape to open a
 * session: after the first, their scrapes are cache hits and start no scrape browser.
 */
let shared: string;
beforeAll(async () => {
  site = await startFixtureSite();
  shared = tempDataDir();
});
afterAll(() => site?.close());

// Lifetimes below are the shortest the settings allow.

test("an idle session is destroyed, its processes reaped, and later calls answer 410", async () => {
  const server = await startTestServer({ DATA_DIR: shared, SESSION_IDLE_TTL_SECONDS: "1" });
  try {
    const id = await scrapeId(server.url, { url: `${site.url}/` });
    expect((await interact(server.url, id, { code: "1" })).status).toBe(200);
    const { proc, sandbox } = server.services.sessions.get(id)!.resources;
    const scratchDir = sandbox.dir;
    const sessionPids = async () => [...groupPids(proc.pid), ...(await pidsMentioning(scratchDir))];
    expect(groupPids(proc.pid).length).toBeGreaterThan(0);
    expect((await pidsMentioning(scratchDir)).length).toBeGreaterThan(0);
    expect(await waitFor(() => server.services.sessions.activeCount() === 0)).toBe(true);
    expect(await waitFor(async () => (await sessionPids()).length === 0)).toBe(true);
    const later = await interact(server.url, id, { code: "1" });
    expect(later.status).toBe(410);
    expect(later.body.details).toEqual({ reason: "idle" });
  } finally {
    await server.close();
  }
});

test("a session past its TTL is destroyed even while in use", async () => {
  // The idle TTL stays at its default: only the session's lifetime can end it.
  const server = await startTestServer({ DATA_DIR: shared, SESSION_TTL_SECONDS: "1" });
  try {
    const id = await scrapeId(server.url, { url: `${site.url}/` });
    // Calls one after another until one is refused. The call running when the TTL strikes may
    // be cut short (a 200 with success: false); any other answer than 200 or 410 is a failure.
    let ran = 0;
    let res = await interact(server.url, id, { code: "1" });
    const end = Date.now() + 15_000;
    while (res.status === 200 && Date.now() < end) {
      ran++;
      await new Promise((r) => setTimeout(r, 100));
      res = await interact(server.url, id, { code: "1" });
    }
    expect(ran).toBeGreaterThan(0);
    expect(res.status).toBe(410);
    expect(res.body.details).toEqual({ reason: "ttl" });
    expect(server.services.sessions.activeCount()).toBe(0);
  } finally {
    await server.close();
  }
});

test("after a restart, sessions that were live answer 410 and nothing outlives the old server", async () => {
  const dataDir = tempDataDir();
  const first = await startTestServer({ DATA_DIR: dataDir, BROWSER_POOL_SIZE: "1" });
  const id = await scrapeId(first.url, { url: `${site.url}/` });
  expect((await interact(first.url, id, { code: "1" })).status).toBe(200);
  await first.close();
  expect(await pidsMentioning(dataDir)).toEqual([]);

  const second = await startTestServer({ DATA_DIR: dataDir });
  try {
    const res = await interact(second.url, id, { code: "1" });
    expect(res.status).toBe(410);
    expect(res.body.error).toBe("Browser session has been destroyed.");
    const stopped = await stop(second.url, id);
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ success: true, status: "stopped" });
  } finally {
    await second.close();
  }
});

test("a crashed browser ends its session with a clear error; other sessions carry on", async () => {
  const server = await startTestServer({ DATA_DIR: shared });
  try {
    const a = await scrapeId(server.url, { url: `${site.url}/` });
    const b = await scrapeId(server.url, { url: `${site.url}/` });
    await interact(server.url, a, { code: "1" });
    await interact(server.url, b, { code: "1" });
    const victim = server.services.sessions.get(a)!;
    killGroup(victim.resources.proc.pid);
    expect(await waitFor(() => !victim.alive)).toBe(true);
    const res = await interact(server.url, a, { code: "1" });
    expect(res.status).toBe(410);
    expect(res.body.error).toBe("Browser session has been destroyed.");
    const other = await interact(server.url, b, { code: "await page.title()" });
    expect(other.body).toMatchObject({ success: true, result: "Fixture Home" });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  } finally {
    await server.close();
  }
});

import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { profilesRoot } from "../src/chromium/chromium-process.js";
import { pidsMentioning } from "../src/processes/process-table.js";
import { killPid } from "../src/processes/signal.js";
import { sandboxRoot } from "../src/sandbox/root.js";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { closeAll, startTestServer, type TestServer } from "./helpers/server.js";
import { makeTeam, teamClient, type Reply } from "./helpers/team-client.js";

/**
 * A tarpit: its /tarpit pages never answer. Each request is held until the test drops it (the
 * connection is cut, as a site that gives up would), or dropped on arrival while `dropping`.
 */
async function startTarpit() {
  const arrivals: string[] = [];
  const held: http.ServerResponse[] = [];
  let dropping = false;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== "/tarpit") return void res.writeHead(404).end();
    arrivals.push(url.searchParams.get("n") ?? "");
    if (dropping) res.socket?.destroy();
    else held.push(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    /** Requests held now. */
    held: () => held.length,
    /** Cuts the connection of the request held longest. */
    dropOldest: () => held.shift()?.socket?.destroy(),
    /** From now on (or, with false, no longer) every request is cut: held ones and new ones. */
    dropAll: (on = true) => {
      dropping = on;
      if (on) for (const res of held.splice(0)) res.socket?.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Failures of the site, not of this server: what a tarpit's scrapes end with when cut. */
const TARGET_FAILURES = ["SCRAPE_CONNECTION_FAILED", "SCRAPE_FAILED"];

let server: TestServer;
let site: FixtureSite;
let tarpit: Awaited<ReturnType<typeof startTarpit>>;

beforeAll(async () => {
  [server, site, tarpit] = await Promise.all([
    // Two slots, and a team may have 10 scrapes in flight: 2 running and 8 waiting. Before
    // scrapes were shared by team, 8 waiting was the whole server's line.
    startTestServer({
      USE_DB_AUTHENTICATION: "true",
      ALLOW_PRIVATE_NETWORK: "true",
      MAX_CONCURRENT_SCRAPES: "2",
      TEAM_MAX_SCRAPES: "10",
    }),
    startFixtureSite(),
    startTarpit(),
  ]);
});
afterAll(() => closeAll(server, site, tarpit));

const available = async (teamId: string) =>
  (await server.services.store.credits.balance(teamId)).available;
const ledger = async (teamId: string) =>
  (await server.services.teams.report(teamId, 100)).ledger.map((e) => [e.kind, e.amount, e.note]);

test("a team flooding scrapes of a page that never answers neither starves another team nor passes its own limit, and pays for the slots it held", async () => {
  const a = await makeTeam(server, "tarpitter", 100);
  const b = await makeTeam(server, "neighbour", 5);
  const ca = teamClient(server, a.key);
  const cb = teamClient(server, b.key);
  const slots = server.services.scrapes.slots;

  // One at a time, so that the order they were sent in is the order they reached the server
  // in: the first two take the slots and reach the tarpit, the other eight wait in line.
  const settledA: Reply[] = [];
  const pendingA: Promise<Reply>[] = [];
  for (let n = 0; n < 10; n++) {
    const p = ca.scrape(`${tarpit.url}/tarpit?n=${n}`, { timeout: 60_000 });
    pendingA.push(p.then((r) => (settledA.push(r), r)));
    if (n < 2) await expect.poll(() => tarpit.arrivals.length, { timeout: 20_000 }).toBe(n + 1);
    else await expect.poll(() => slots.waiting, { timeout: 20_000 }).toBe(n - 1);
  }

  // B's scrape of an ordinary page waits for the next free slot: it is not refused.
  let bDone: Reply | undefined;
  const bScrape = cb.scrape(`${site.url}/`, { timeout: 60_000 }).then((r) => (bDone = r));
  await expect
    .poll(() => (bDone ? `answered ${bDone.status}` : slots.waiting === 9 ? "in line" : ""), {
      timeout: 20_000,
    })
    .toBe("in line");

  // A's eleventh is past A's own limit: refused at once, saying the limit and when to retry.
  const refused = await ca.scrape(`${tarpit.url}/tarpit?n=over`, { timeout: 60_000 });
  expect(refused.status).toBe(429);
  expect(refused.body).toMatchObject({ success: false, code: "TOO_MANY_SCRAPES" });
  expect(refused.body.error).toMatch(/^Too many scrapes/);
  expect(refused.body.error).toMatch(/at most 10 scrapes/);
  const retryAfter = Number(refused.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);

  // One of A's scrapes ends: the slot goes to B, which holds none, not to A's next in line.
  tarpit.dropOldest();
  const bRes = await bScrape;
  expect(bRes.status).toBe(200);
  expect(bRes.body.data.markdown).toContain("Hello fixture");
  // ...while every other scrape of A's is still held by the tarpit or waiting for a slot.
  expect(settledA).toHaveLength(1);
  expect(settledA[0]!.status).toBe(502);
  expect(TARGET_FAILURES).toContain(settledA[0]!.body.code);

  // Within A, first come first served: the tarpit sees A's scrapes in the order A sent them.
  // One slot is freed at a time, each once both are held, so no two of A's are on their way.
  while (tarpit.arrivals.length < 10) {
    await expect.poll(() => tarpit.held(), { timeout: 20_000 }).toBe(2);
    tarpit.dropOldest();
  }
  tarpit.dropAll();
  const results = await Promise.all(pendingA);
  tarpit.dropAll(false);
  expect(tarpit.arrivals).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
  for (const r of results) {
    expect(r.status).toBe(502);
    expect(TARGET_FAILURES).toContain(r.body.code);
  }
  expect({ running: slots.running, waiting: slots.waiting }).toEqual({ running: 0, waiting: 0 });

  // Each of A's ten held a slot until the site let go: each paid. The refused one paid nothing.
  expect(await available(a.id)).toBe(90);
  expect(await available(b.id)).toBe(4);
  const kept = (await ledger(a.id)).filter(
    ([kind, amount, note]) => kind === "refund" && amount === 0 && /kept/.test(String(note)),
  );
  expect(kept).toHaveLength(10);
});

test("a tarpit's timeout is paid; a scrape that timed out waiting for a slot, or whose browser crashed, is not", async () => {
  const t = await makeTeam(server, "tarpit-timeout", 10);
  const c = teamClient(server, t.key);
  const slots = server.services.scrapes.slots;

  // Held by a page that never answers until the scrape's own timeout: the tenant's choice.
  const timedOut = await c.scrape(`${tarpit.url}/tarpit?n=t`, { timeout: 5_000 });
  expect(timedOut.status).toBe(408);
  expect(timedOut.body.error).toMatch(/timed out after 5000 ms while loading the page/);
  expect(await available(t.id)).toBe(9);
  expect(await ledger(t.id)).toEqual(
    expect.arrayContaining([
      ["refund", 0, expect.stringMatching(/SCRAPE_TIMEOUT.*kept/)],
      ["charge", -1, "scrape"],
    ]),
  );

  // Two scrapes hold both slots; a third times out in line, never having held one: refunded.
  const held = [1, 2].map((n) => c.scrape(`${tarpit.url}/tarpit?n=h${n}`, { timeout: 60_000 }));
  await expect.poll(() => slots.runningOf(t.id), { timeout: 20_000 }).toBe(2);
  await expect.poll(() => tarpit.arrivals.filter((n) => n.startsWith("h")).length).toBe(2);
  const waited = await c.scrape(`${tarpit.url}/tarpit?n=w`, { timeout: 1_000 });
  expect(waited.status).toBe(408);
  expect(waited.body.error).toMatch(/while waiting for a free scrape slot/);
  expect(await available(t.id)).toBe(9 - 2); // the two holding slots have paid up front

  // The scrape browser dies under the two holding slots: the server's failure, refunded.
  // The scrape browser: the processes naming this server's folders (as the start's reaper finds).
  const browsers = pidsMentioning(
    [sandboxRoot(server.dataDir), profilesRoot(server.dataDir)].map((d) => d + path.sep),
  );
  expect(browsers.length).toBeGreaterThan(0);
  for (const pid of browsers) killPid(pid);
  for (const r of await Promise.all(held)) {
    expect(r.status).toBeGreaterThanOrEqual(500);
  }
  expect(await available(t.id)).toBe(9);
  expect(
    (await ledger(t.id)).filter(
      ([kind, , note]) => kind === "refund" && /server/.test(String(note)),
    ),
  ).toHaveLength(2);

  // A new browser serves the next scrape, which pays as usual.
  const ok = await c.scrape(`${site.url}/`);
  expect(ok.status).toBe(200);
  expect(ok.body.data.metadata.creditsUsed).toBe(1);
  expect(await available(t.id)).toBe(8);
});

test("a scrape holds a credit per started minute of its timeout, and keeps only what its slot time cost", async () => {
  const t = await makeTeam(server, "long-timeout", 1);
  const c = teamClient(server, t.key);
  const long = await c.scrape(`${site.url}/`, { timeout: 120_000 });
  expect(long.status).toBe(402);
  expect(long.body.details).toEqual({ needed: 2, available: 1 });
  expect(long.body.error).toMatch(/timeout of 120000 ms/);

  await server.services.teams.grant(t.id, 2, "top-up");
  const ok = await c.scrape(`${site.url}/?long`, { timeout: 120_000 });
  expect(ok.status).toBe(200);
  // The page took far less than a minute of slot time: 1 credit, and the other comes back.
  expect(ok.body.data.metadata.creditsUsed).toBe(1);
  expect(await available(t.id)).toBe(2);
  expect(await ledger(t.id)).toEqual(
    expect.arrayContaining([
      ["charge", -2, expect.any(String)],
      ["refund", 1, expect.any(String)],
    ]),
  );
});

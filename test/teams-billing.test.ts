import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openStore } from "../src/store/open.js";
import type { SessionEnded } from "../src/sessions/lifetimes.js";
import { call, startFakeModel, type FakeModel } from "./helpers/fake-model.js";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { freePort } from "./helpers/ports.js";
import { closeAll, startTestServer, tempDataDir, type TestServer } from "./helpers/server.js";
import { closeStoresAfterEach, STORE_KINDS } from "./helpers/stores.js";
import { makeTeam, teamClient } from "./helpers/team-client.js";

let site: FixtureSite;
beforeAll(async () => {
  site = await startFixtureSite();
});
afterAll(() => closeAll(site));
closeStoresAfterEach();

/** A 2-minute TTL: a session holds 4 credits (2/min) until it is settled. */
const TTL_ENV = { SESSION_TTL_SECONDS: "120" };
const authEnv = (db: Record<string, string>): Record<string, string> => ({
  USE_DB_AUTHENTICATION: "true",
  ALLOW_PRIVATE_NETWORK: "true",
  ...TTL_ENV,
  ...db,
});

/**
 * The store the tests that start browsers run on: Postgres, where concurrent requests really
 * race in the database. What the store itself promises is held on both dialects by the store
 * contract test (test/store.test.ts); a restart, which starts no browser, runs on both here.
 */
const BROWSER_STORE = STORE_KINDS.find((k) => k.name === "postgres")!;

describe.each([BROWSER_STORE])("credits and limits on $name", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(authEnv(await kind.env()));
  });
  afterAll(() => closeAll(server));

  const ledger = async (teamId: string) =>
    (await server.services.teams.report(teamId, 100)).ledger.map((e) => [e.kind, e.amount]);

  test("a scrape costs 1 credit; with none left it is 402 and nothing is scraped", async () => {
    const t = await makeTeam(server, "bill-scrape", 1);
    const c = teamClient(server, t.key);
    const ok = await c.scrape(`${site.url}/`);
    expect(ok.status).toBe(200);
    expect(ok.body.data.metadata.creditsUsed).toBe(1);
    const before = site.requests.length;
    const broke = await c.scrape(`${site.url}/?again`);
    expect(broke.status).toBe(402);
    expect(broke.body).toMatchObject({
      success: false,
      code: "PAYMENT_REQUIRED",
      details: { needed: 1, available: 0 },
    });
    expect(broke.body.error).toMatch(/^Insufficient credits/);
    expect(site.requests.length).toBe(before);
    expect((await c.credits()).body.data).toMatchObject({ remainingCredits: 0, metered: true });
  });

  test("a scrape the target fails is paid, and the ledger says why; one refused before it ran is refunded", async () => {
    const t = await makeTeam(server, "bill-fail", 3);
    const c = teamClient(server, t.key);
    // The site refuses the connection: the slot was held for the tenant's choice of URL.
    const closed = `http://127.0.0.1:${await freePort()}/`;
    const res = await c.scrape(closed);
    expect(res.status).toBe(502);
    expect(res.body.code).toBe("SCRAPE_CONNECTION_FAILED");
    expect((await server.services.store.credits.balance(t.id)).available).toBe(2);
    expect(await ledger(t.id)).toEqual(
      expect.arrayContaining([
        ["charge", -1],
        ["refund", 0],
      ]),
    );
    const notes = (await server.services.teams.report(t.id, 100)).ledger.map((e) => e.note);
    expect(notes).toContainEqual(expect.stringMatching(/SCRAPE_CONNECTION_FAILED.*at the target/));
    // Nothing cached for a cache-only scrape: it never took a slot, so it costs nothing.
    const miss = await c.scrape(closed, { minAge: 1 });
    expect(miss.status).toBe(404);
    expect((await server.services.store.credits.balance(t.id)).available).toBe(2);
  });

  test("concurrent scrapes on the last credits never overdraw", async () => {
    const t = await makeTeam(server, "bill-race", 3);
    const c = teamClient(server, t.key);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => c.scrape(`${site.url}/?n=${i}`)),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 402, 402, 402, 402, 402]);
    expect((await server.services.store.credits.balance(t.id)).available).toBe(0);
  });

  test("a session needs its full TTL's credits: 402 with the figures, and no browser starts", async () => {
    const t = await makeTeam(server, "bill-short", 4);
    const c = teamClient(server, t.key);
    const id = await c.scrapeId(`${site.url}/`); // 3 left, 4 needed
    const refused = await c.interact(id);
    expect(refused.status).toBe(402);
    expect(refused.body.error).toMatch(/^Insufficient credits for a browser session/);
    expect(refused.body.details).toEqual({ needed: 4, available: 3 });
    expect(server.services.sessions.activeCount()).toBe(0);
    // Once the team holds enough, the same scrape gets its session.
    await server.services.teams.grant(t.id, 1, "top-up");
    const ok = await c.interact(id);
    expect(ok.status).toBe(200);
    expect((await server.services.store.credits.balance(t.id)).reserved).toBe(4);
    expect((await c.stop(id)).status).toBe(200);
  });

  test("DELETE bills once, per second with a minute's minimum, and returns the reservation", async () => {
    const t = await makeTeam(server, "bill-stop", 20);
    const c = teamClient(server, t.key);
    const id = await c.scrapeId(`${site.url}/`);
    expect((await c.interact(id)).status).toBe(200);
    expect((await server.services.store.credits.balance(t.id)).available).toBe(20 - 1 - 4);
    const stopped = await c.stop(id);
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ success: true, status: "stopped", creditsBilled: 2 });
    expect(stopped.body.sessionDurationMs).toBeGreaterThan(0);
    expect((await server.services.store.credits.balance(t.id)).available).toBe(20 - 1 - 2);
    expect(await ledger(t.id)).toEqual(
      expect.arrayContaining([
        ["reservation", -4],
        ["refund", 4],
        ["charge", -2],
      ]),
    );
    // A second DELETE reports the same bill, and bills nothing more.
    const again = await c.stop(id);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ success: true, status: "stopped", creditsBilled: 2 });
    expect((await server.services.store.credits.balance(t.id)).available).toBe(17);
  });

  test("DELETE racing the TTL bills once", async () => {
    const t = await makeTeam(server, "bill-racing", 20);
    const c = teamClient(server, t.key);
    const id = await c.scrapeId(`${site.url}/`);
    expect((await c.interact(id)).status).toBe(200);
    const session = server.services.sessions.get(id)!;
    const [byTtl, deleted] = await Promise.all([
      server.services.lifetimes.end(session, "ttl"),
      c.stop(id),
    ]);
    expect(byTtl?.reason).toBe("ttl");
    // Whichever ended it, the DELETE reports the one bill.
    expect(deleted.status).toBe(200);
    expect(deleted.body.creditsBilled).toBe(2);
    await expect
      .poll(async () => (await ledger(t.id)).filter(([k]) => k === "charge").length)
      .toBe(2); // the scrape's and the session's
    expect((await server.services.store.credits.balance(t.id)).available).toBe(20 - 1 - 2);
  });

  test("past the team's limit: 429 with the spec's message and Retry-After; the server cap still holds", async () => {
    const t = await makeTeam(server, "bill-limit", 100);
    await server.services.teams.setMaxSessions(t.id, 1);
    const c = teamClient(server, t.key);
    const [a, b] = [await c.scrapeId(`${site.url}/`), await c.scrapeId(`${site.url}/`)];
    expect((await c.interact(a)).status).toBe(200);
    const refused = await c.interact(b);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe(
      "You have reached the maximum number of active browser sessions.",
    );
    const retry = Number(refused.headers.get("retry-after"));
    // The idle TTL (300 s by default) is later than the 120 s TTL: the TTL decides.
    expect(retry).toBeGreaterThan(100);
    expect(retry).toBeLessThanOrEqual(120);
    expect(refused.body.details).toMatchObject({ limit: 1, retryAfterSeconds: retry });
    // Nothing was reserved for the refused one.
    expect((await server.services.store.credits.balance(t.id)).reserved).toBe(4);
    expect((await c.stop(a)).status).toBe(200);
    expect((await c.interact(b)).status).toBe(200);
    expect((await c.stop(b)).status).toBe(200);
  });

  test("20 concurrent session creations at a team limit of 3 never exceed it", async () => {
    const t = await makeTeam(server, "bill-burst", 1_000);
    await server.services.teams.setMaxSessions(t.id, 3);
    const c = teamClient(server, t.key);
    // The scrapes one by one (what is under test is the burst of session creations).
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await c.scrapeId(`${site.url}/?burst=${i}`));
    const results = await Promise.all(ids.map((id) => c.interact(id)));
    const ok = ids.filter((_, i) => results[i]!.status === 200);
    expect(ok).toHaveLength(3);
    expect(results.filter((r) => r.status === 429)).toHaveLength(17);
    expect((await server.services.store.sessions.liveOfTeam(t.id)).length).toBe(3);
    expect((await server.services.store.credits.balance(t.id)).reserved).toBe(12);
    for (const id of ok) expect((await c.stop(id)).status).toBe(200);
    expect((await server.services.store.credits.balance(t.id)).reserved).toBe(0);
  });
});

describe.each(STORE_KINDS)("a restart on $name", (kind) => {
  test("settles the sessions that were live exactly once, billed up to when they were last seen", async () => {
    const env = authEnv({ ...(await kind.env()), DATA_DIR: tempDataDir(), NODE_ID: "node-r" });
    // What a killed run leaves: a live session holding its reservation, last seen 90 s in.
    const store = await openStore({ dataDir: env.DATA_DIR!, databaseUrl: env.DATABASE_URL });
    const team = (await store.teams.create({ id: "team-r", name: "restart", at: 1 }))!;
    await store.credits.grant(team.id, 50, "test", 1);
    const started = Date.now() - 10 * 60_000;
    const claim = await store.sessions.claim(
      { id: "s-live", scrapeId: "sc-live", teamId: team.id, nodeId: "node-r", at: started },
      { maxSessions: 5, reserve: 4 },
    );
    expect(claim.outcome).toBe("claimed");
    await store.sessions.activate("s-live", "digest", started);
    await store.sessions.markSeen("node-r", started + 90_000);
    // And one whose end was recorded but whose settling never happened.
    await store.sessions.claim(
      { id: "s-ended", scrapeId: "sc-ended", teamId: team.id, nodeId: "node-r", at: started },
      { maxSessions: 5, reserve: 4 },
    );
    await store.sessions.activate("s-ended", "digest2", started);
    await store.sessions.end("s-ended", "stopped", started + 30_000);
    await store.close();

    for (let run = 0; run < 2; run++) {
      const events: SessionEnded[] = [];
      const server = await startTestServer(env, { onSessionEnded: (e) => events.push(e) });
      try {
        if (run === 0) expect(events.map((e) => e.sessionId)).toEqual(["s-live"]);
        else expect(events).toEqual([]);
        await expect
          .poll(async () => (await server.services.store.credits.unsettled()).length)
          .toBe(0);
        const entries = (await server.services.teams.report(team.id, 100)).ledger;
        const charges = entries.filter((e) => e.kind === "charge");
        // 90 s at 2/min = 3 credits; 30 s is the one-minute minimum, 2 credits.
        expect(charges.map((e) => [e.sessionId, e.amount]).sort()).toEqual([
          ["s-ended", -2],
          ["s-live", -3],
        ]);
        expect(await server.services.store.credits.balance(team.id)).toEqual({
          available: 45,
          reserved: 0,
        });
      } finally {
        await server.close();
      }
    }
  });
});

describe.each([BROWSER_STORE])("a shutdown on $name", (kind) => {
  test("settles the sessions it ends before the store closes", async () => {
    const env = authEnv({ ...(await kind.env()), DATA_DIR: tempDataDir() });
    const server = await startTestServer(env);
    let closed = false;
    try {
      const t = await makeTeam(server, "bill-shutdown", 20);
      const c = teamClient(server, t.key);
      const id = await c.scrapeId(`${site.url}/`);
      expect((await c.interact(id)).status).toBe(200);
      await server.close();
      closed = true;
      const store = await openStore({ dataDir: env.DATA_DIR!, databaseUrl: env.DATABASE_URL });
      try {
        expect(await store.credits.unsettled()).toEqual([]);
        expect(await store.credits.balance(t.id)).toEqual({ available: 20 - 1 - 2, reserved: 0 });
      } finally {
        await store.close();
      }
    } finally {
      if (!closed) await server.close();
    }
  });
});

describe("prompts on a metered server", () => {
  let server: TestServer;
  let model: FakeModel;
  beforeAll(async () => {
    model = await startFakeModel();
    server = await startTestServer({
      ...authEnv({}),
      OPENAI_BASE_URL: model.baseUrl,
      MODEL_NAME: "fake",
    });
  });
  afterAll(() => closeAll(server, model));

  test("a prompt holds the prompt rate for the full TTL first (402 without it) and bills 7/min", async () => {
    // 120 s TTL: 4 credits at the code rate, 14 at the prompt rate.
    const t = await makeTeam(server, "bill-prompt", 10);
    const c = teamClient(server, t.key);
    const [fresh, coded] = [await c.scrapeId(`${site.url}/`), await c.scrapeId(`${site.url}/`)];

    // A prompt as a session's first call needs the prompt rate at once: no browser starts.
    const first = await c.interact(fresh, { prompt: "What is the title?" });
    expect(first.status).toBe(402);
    expect(first.body.details).toEqual({ needed: 14, available: 8 });
    expect(server.services.sessions.activeCount()).toBe(0);

    // A session that ran code holds 4; its first prompt needs 10 more, which the team lacks.
    expect((await c.interact(coded, { code: "1" })).status).toBe(200);
    const later = await c.interact(coded, { prompt: "What is the title?" });
    expect(later.status).toBe(402);
    expect(later.body.error).toMatch(/a prompt in this browser session needs 10 credits/);
    expect(later.body.details).toEqual({ needed: 10, available: 4 });
    expect(model.requests).toHaveLength(0);
    // Still billed at the code rate: no prompt ran.
    expect((await c.stop(coded)).body.creditsBilled).toBe(2);

    await server.services.teams.grant(t.id, 20, "top-up");
    model.script([call("done", { answer: "Fixture Home", success: true })]);
    const ran = await c.interact(fresh, { prompt: "What is the title?" });
    expect(ran.status).toBe(200);
    expect(ran.body.output).toBe("Fixture Home");
    expect((await server.services.store.credits.balance(t.id)).reserved).toBe(14);
    expect((await c.stop(fresh)).body.creditsBilled).toBe(7);
    // 10 granted - 2 scrapes - 2 (code session) + 20 - 7 (prompt session).
    expect(await server.services.store.credits.balance(t.id)).toEqual({
      available: 19,
      reserved: 0,
    });
  });
});

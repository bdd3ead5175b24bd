import { describe, expect, test } from "vitest";
import type { ReplayContext } from "../src/page-state/replay-context.js";
import type { ScrapeRecord, Store } from "../src/store/repositories.js";
import { closeStoresAfterEach, STORE_KINDS } from "./helpers/stores.js";

closeStoresAfterEach();

const replay: ReplayContext = {
  version: 1,
  finalUrl: "https://example.com/b",
  loadedUrl: "https://example.com/a",
  headers: { "X-A": "1" },
  viewport: { width: 1280, height: 800 },
  mobile: false,
  userAgent: "UA",
  locale: "de-DE",
  timezoneId: "Europe/Berlin",
  ignoreHTTPSErrors: true,
  blockAds: true,
  cookies: [
    {
      name: "c",
      value: "v",
      domain: "example.com",
      path: "/",
      expires: -1,
      httpOnly: true,
      secure: true,
      sameSite: "Lax",
    },
  ],
  storage: { origin: "https://example.com", localStorage: { k: "v" }, sessionStorage: {} },
  actions: [{ type: "click", selector: "#x", all: false }],
  actionsNavigated: true,
};

const record = (id: string, over: Partial<ScrapeRecord> = {}): ScrapeRecord => ({
  id,
  teamId: "team",
  url: "https://example.com/a",
  finalUrl: "https://example.com/b",
  statusCode: 200,
  zeroDataRetention: false,
  replayContext: replay,
  createdAt: 1_700_000_000_000,
  profile: null,
  ...over,
});

const claimOf = (store: Store, id: string, scrapeId: string, teamId = "t", at = Date.now()) =>
  store.sessions.claim({ id, scrapeId, teamId, nodeId: "n", at }, undefined);

/** A team with `credits` granted, for the tests that spend. */
async function teamWith(store: Store, credits: number, name = "acme"): Promise<string> {
  const team = await store.teams.create({ id: `team-${name}`, name, at: 1 });
  if (!team) throw new Error("team not created");
  if (credits > 0) await store.credits.grant(team.id, credits, "test", 1);
  return team.id;
}

describe.each(STORE_KINDS)("the $name store", (kind) => {
  test("scrape records round-trip, with and without a replay context", async () => {
    const { store: s } = await kind.fresh();
    await s.scrapes.insert(record("a"));
    await s.scrapes.insert(
      record("b", { zeroDataRetention: true, replayContext: null, statusCode: null }),
    );
    expect(await s.scrapes.get("a")).toEqual(record("a"));
    expect(await s.scrapes.get("b")).toMatchObject({
      zeroDataRetention: true,
      replayContext: null,
      statusCode: null,
    });
    expect(await s.scrapes.get("missing")).toBeUndefined();
  });

  test("the cache answers only for entries younger than maxAge, and keeps the newest put", async () => {
    const { store: s } = await kind.fresh();
    await s.cache.put("k", { v: 1 }, 1_000);
    expect(await s.cache.get("k", 500, 1_400)).toEqual({ v: 1 });
    expect(await s.cache.get("k", 500, 1_600)).toBeUndefined();
    await s.cache.put("k", { v: 2 }, 2_000);
    expect(await s.cache.get("k", 500, 2_100)).toEqual({ v: 2 });
    expect(await s.cache.get("other", 500, 2_100)).toBeUndefined();
  });

  test("prune drops only expired cache entries", async () => {
    const { store: s } = await kind.fresh();
    await s.cache.put("old", 1, 1_000);
    await s.cache.put("new", 2, 5_000);
    expect(await s.cache.prune(2_000, 5_500)).toBe(1);
    expect(await s.cache.get("old", 10_000, 5_500)).toBeUndefined();
    expect(await s.cache.get("new", 10_000, 5_500)).toBe(2);
  });

  test("everything is kept: a reopened store has the same records, cache and ledger", async () => {
    const { store: first, reopen } = await kind.fresh();
    await first.scrapes.insert(record("kept"));
    await first.cache.put("key", { doc: "x" });
    const team = await teamWith(first, 7);
    await first.close();
    const second = await reopen();
    expect(await second.scrapes.get("kept")).toEqual(record("kept"));
    expect(await second.cache.get("key", 60_000)).toEqual({ doc: "x" });
    expect(await second.credits.balance(team)).toEqual({ available: 7, reserved: 0 });
  });

  test("claims on one scrape race safely: one wins, the other gets its record", async () => {
    const { store } = await kind.fresh();
    const [a, b] = await Promise.all([claimOf(store, "a", "s1"), claimOf(store, "b", "s1")]);
    expect([a.outcome, b.outcome].sort()).toEqual(["claimed", "taken"]);
    if (a.outcome === "limit" || a.outcome === "credits") throw new Error("unexpected");
    if (b.outcome === "limit" || b.outcome === "credits") throw new Error("unexpected");
    expect(a.record.id).toBe(b.record.id);
    // A claim whose browser never started is given up, and the scrape can be tried again.
    await store.sessions.release(a.record.id, Date.now());
    expect((await claimOf(store, "c", "s1")).outcome).toBe("claimed");
    // A session ends once: the second end changes nothing.
    expect(await store.sessions.activate("c", "h", Date.now())).toBe(true);
    expect(await store.sessions.end("c", "stopped", Date.now())).toBe(true);
    expect(await store.sessions.end("c", "ttl", Date.now())).toBe(false);
    expect((await store.sessions.getByScrape("s1"))?.destroyReason).toBe("stopped");
  });

  test("teams: names are unique, found by id or name, with their own session limit", async () => {
    const { store } = await kind.fresh();
    const a = await store.teams.create({ id: "t1", name: "acme", at: 5 });
    expect(a).toEqual({ id: "t1", name: "acme", maxSessions: null, createdAt: 5 });
    expect(await store.teams.create({ id: "t2", name: "acme", at: 6 })).toBeUndefined();
    expect(await store.teams.find("acme")).toEqual(a);
    expect(await store.teams.find("t1")).toEqual(a);
    expect(await store.teams.find("nobody")).toBeUndefined();
    expect(await store.teams.setMaxSessions("t1", 3)).toBe(true);
    expect((await store.teams.find("t1"))?.maxSessions).toBe(3);
    expect(await store.teams.setMaxSessions("missing", 3)).toBe(false);
    expect((await store.teams.list()).map((t) => t.name)).toEqual(["acme"]);
  });

  test("keys are found by digest until revoked, once", async () => {
    const { store } = await kind.fresh();
    await store.teams.create({ id: "t1", name: "acme", at: 1 });
    await store.keys.create({
      id: "k1",
      teamId: "t1",
      hash: "h1",
      prefix: "fc-ab",
      name: null,
      at: 2,
    });
    expect((await store.keys.findActive("h1"))?.teamId).toBe("t1");
    expect(await store.keys.revoke("k1", 3)).toBe(true);
    expect(await store.keys.revoke("k1", 4)).toBe(false);
    expect(await store.keys.findActive("h1")).toBeUndefined();
    expect((await store.keys.list("t1"))[0]).toMatchObject({ id: "k1", revokedAt: 3 });
  });

  test("20 claims at once at a team limit of 3: exactly 3 sessions, the rest told the limit", async () => {
    const { store } = await kind.fresh();
    const team = await teamWith(store, 1_000);
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.sessions.claim(
          { id: `s${i}`, scrapeId: `scrape${i}`, teamId: team, nodeId: "n", at: 1_000 + i },
          { maxSessions: 3, reserve: 20 },
        ),
      ),
    );
    const outcomes = claims.map((c) => c.outcome);
    expect(outcomes.filter((o) => o === "claimed")).toHaveLength(3);
    expect(outcomes.filter((o) => o === "limit")).toHaveLength(17);
    const refused = claims.find((c) => c.outcome === "limit");
    expect(refused).toMatchObject({ limit: 3 });
    // When the live ones started, as numbers: a 429's Retry-After is worked out from them.
    const started = claims.flatMap((c) => (c.outcome === "claimed" ? [c.record.createdAt] : []));
    if (refused?.outcome !== "limit") throw new Error("no claim was refused for the limit");
    expect([...refused.liveStartedAt].sort()).toEqual(started.sort());
    for (const t of refused.liveStartedAt) expect(typeof t).toBe("number");
    expect((await store.sessions.liveOfTeam(team)).length).toBe(3);
    // Only the three that got a session hold credits.
    expect(await store.credits.balance(team)).toEqual({ available: 940, reserved: 60 });
  });

  test("a claim the team cannot reserve for is refused with the figures, and writes nothing", async () => {
    const { store } = await kind.fresh();
    const team = await teamWith(store, 15);
    const claim = await store.sessions.claim(
      { id: "s", scrapeId: "sc", teamId: team, nodeId: "n", at: 5 },
      { maxSessions: 3, reserve: 20 },
    );
    expect(claim).toEqual({ outcome: "credits", needed: 20, available: 15 });
    expect(await store.sessions.getByScrape("sc")).toBeUndefined();
    expect(await store.credits.entries(team, 10)).toHaveLength(1); // the grant
  });

  test("concurrent scrapes on the last credits never overdraw", async () => {
    const { store } = await kind.fresh();
    const team = await teamWith(store, 5);
    const spends = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.credits.spend({
          teamId: team,
          amount: 1,
          scrapeId: `sc${i}`,
          nodeId: "n",
          ref: `scrape:sc${i}`,
          note: "scrape",
          at: 10 + i,
        }),
      ),
    );
    expect(spends.filter((s) => s.ok)).toHaveLength(5);
    expect(spends.find((s) => !s.ok)).toEqual({ ok: false, available: 0 });
    expect(await store.credits.balance(team)).toEqual({ available: 0, reserved: 0 });
    // A refund happens once per ref.
    for (let i = 0; i < 2; i++) {
      await store.credits.refund({
        teamId: team,
        amount: 1,
        scrapeId: "sc0",
        ref: "refund:sc0",
        note: "failed",
        at: 50,
      });
    }
    expect((await store.credits.balance(team)).available).toBe(1);
  });

  test("settling a session twice at once charges once and returns the reservation", async () => {
    const { store } = await kind.fresh();
    const team = await teamWith(store, 100);
    await store.sessions.claim(
      { id: "s", scrapeId: "sc", teamId: team, nodeId: "n", at: 5 },
      { maxSessions: 3, reserve: 20 },
    );
    expect(await store.credits.balance(team)).toEqual({ available: 80, reserved: 20 });
    await store.sessions.activate("s", "h", 5);
    await store.sessions.end("s", "stopped", 65_005);
    const charged = await Promise.all([
      store.credits.settle({ teamId: team, sessionId: "s", charge: 2, at: 70_000 }),
      store.credits.settle({ teamId: team, sessionId: "s", charge: 2, at: 70_001 }),
    ]);
    expect(charged).toEqual([2, 2]);
    expect(await store.credits.balance(team)).toEqual({ available: 98, reserved: 0 });
    const kinds = (await store.credits.entries(team, 10)).map((e) => [e.kind, e.amount]);
    expect(kinds.sort()).toEqual(
      [
        ["charge", -2],
        ["grant", 100],
        ["refund", 20],
        ["reservation", -20],
      ].sort(),
    );
    expect(await store.credits.unsettled()).toEqual([]);
  });

  test("a prompt raises what a session holds, once, and only if the team has it", async () => {
    const { store } = await kind.fresh();
    const team = await teamWith(store, 50);
    await store.sessions.claim(
      { id: "s", scrapeId: "sc", teamId: team, nodeId: "n", at: 5 },
      { maxSessions: 3, reserve: 20 },
    );
    const up = (total: number) =>
      store.credits.reserveUpTo({ teamId: team, sessionId: "s", total, note: "prompt", at: 9 });
    expect(await up(70)).toEqual({ ok: false, needed: 50, available: 30 });
    expect(await up(45)).toEqual({ ok: true });
    expect(await up(45)).toEqual({ ok: true });
    expect(await store.credits.balance(team)).toEqual({ available: 5, reserved: 45 });
    // A released claim (its browser never started) gives back everything it held.
    await store.sessions.release("s", 10);
    expect(await store.credits.balance(team)).toEqual({ available: 50, reserved: 0 });
  });

  test("a charge never takes the balance below zero", async () => {
    const { store } = await kind.fresh();
    const team = await teamWith(store, 10);
    await store.sessions.claim(
      { id: "s", scrapeId: "sc", teamId: team, nodeId: "n", at: 5 },
      { maxSessions: 3, reserve: 4 },
    );
    expect(await store.credits.settle({ teamId: team, sessionId: "s", charge: 25, at: 9 })).toBe(
      10,
    );
    expect(await store.credits.balance(team)).toEqual({ available: 0, reserved: 0 });
  });

  test("a node's leftovers end as of when they were last seen, and stay unsettled until settled", async () => {
    const { store } = await kind.fresh();
    const team = await teamWith(store, 100);
    await store.sessions.claim(
      { id: "s", scrapeId: "sc", teamId: team, nodeId: "n", at: 1_000 },
      { maxSessions: 3, reserve: 20 },
    );
    await store.sessions.activate("s", "h", 1_000);
    await store.sessions.markSeen("n", 50_000);
    const [left] = await store.sessions.endNode("n", "server_restarted");
    expect(left).toMatchObject({ id: "s", status: "destroyed", destroyedAt: 50_000 });
    expect((await store.sessions.getByScrape("sc"))?.destroyedAt).toBe(50_000);
    expect((await store.credits.unsettled()).map((r) => r.id)).toEqual(["s"]);
    await store.credits.settle({ teamId: team, sessionId: "s", charge: 2, at: 60_000 });
    expect(await store.credits.unsettled()).toEqual([]);
  });

  test("a scrape's charge stays open until its scrape is stored or it is refunded, once", async () => {
    const { store } = await kind.fresh();
    const team = await teamWith(store, 10);
    const charge = (scrapeId: string, nodeId: string, at: number) =>
      store.credits.spend({
        teamId: team,
        amount: 1,
        scrapeId,
        nodeId,
        ref: `scrape:${scrapeId}`,
        note: "scrape",
        at,
      });
    await charge("stored", "n1", 100);
    await charge("failed", "n1", 200);
    await charge("elsewhere", "n2", 300);
    await store.scrapes.insert(record("stored", { teamId: team }));
    const open = (q: { nodeId?: string; before: number }) =>
      store.credits.openScrapeCharges({ ...q, limit: 100 });
    expect(await open({ nodeId: "n1", before: 0 })).toEqual(["failed"]);
    expect(await open({ before: 250 })).toEqual(["failed"]);
    expect(await open({ nodeId: "n2", before: 250 })).toEqual(["failed", "elsewhere"]);
    const refund = (scrapeId: string) =>
      store.credits.resolveScrapeCharge({
        scrapeId,
        ref: `scrape-refund:${scrapeId}`,
        note: "failed",
        at: 400,
      });
    // Resolved by two at once (two nodes), it is refunded once.
    expect((await Promise.all([refund("failed"), refund("failed")])).sort()).toEqual([
      "none",
      "refunded",
    ]);
    expect(await refund("stored")).toBe("none");
    expect(await refund("never-charged")).toBe("none");
    expect(await store.credits.balance(team)).toEqual({ available: 8, reserved: 0 });
    expect(await open({ before: 1_000 })).toEqual(["elsewhere"]);
  });

  test("a failed scrape whose price is kept is closed with a refund of 0 that says why", async () => {
    const { store } = await kind.fresh();
    const team = await teamWith(store, 3);
    await store.credits.spend({
      teamId: team,
      amount: 1,
      scrapeId: "at-target",
      nodeId: "n",
      ref: "scrape:at-target",
      note: "scrape",
      at: 100,
    });
    const close = () =>
      store.credits.resolveScrapeCharge({
        scrapeId: "at-target",
        ref: "scrape-refund:at-target",
        note: "SCRAPE_CONNECTION_FAILED: failed at the target",
        amount: 0,
        at: 200,
      });
    expect(await close()).toBe("refunded");
    expect(await close()).toBe("none");
    expect(await store.credits.balance(team)).toEqual({ available: 2, reserved: 0 });
    const refunds = (await store.credits.entries(team, 10)).filter((e) => e.kind === "refund");
    expect(refunds).toMatchObject([
      {
        amount: 0,
        scrapeId: "at-target",
        note: "SCRAPE_CONNECTION_FAILED: failed at the target",
      },
    ]);
    expect(await store.credits.openScrapeCharges({ before: 1_000, limit: 10 })).toEqual([]);
  });

  test("a heartbeat naming its live sessions leaves one that ended where it ended", async () => {
    const { store } = await kind.fresh();
    for (const id of ["alive", "ended"]) {
      await claimOf(store, id, `sc-${id}`, "t", 1_000);
      await store.sessions.activate(id, `h-${id}`, 1_000);
    }
    await store.sessions.markSeen("n", 5_000, ["alive"]);
    expect((await store.sessions.getByScrape("sc-alive"))?.seenAt).toBe(5_000);
    expect((await store.sessions.getByScrape("sc-ended"))?.seenAt).toBe(1_000);
    await store.sessions.markSeen("n", 6_000, []);
    expect((await store.sessions.getByScrape("sc-alive"))?.seenAt).toBe(5_000);
  });

  test("what a session did is kept as it goes, never shrinks, and stays once it ends", async () => {
    const { store, reopen } = await kind.fresh();
    const team = await teamWith(store, 100);
    await store.sessions.claim(
      { id: "s", scrapeId: "sc", teamId: team, nodeId: "n", at: 1_000 },
      { maxSessions: 3, reserve: 20 },
    );
    await store.sessions.activate("s", "h", 1_000);
    expect(await store.sessions.getByScrape("sc")).toMatchObject({
      languages: [],
      calls: 0,
      lastUrl: null,
      creditsBilled: null,
      recorded: false,
      files: 0,
    });
    const page = "https://example.com/a?q=1,2";
    await store.sessions.recordActivity(
      "s",
      { languages: ["node", "python"], calls: 3, lastUrl: page },
      40_000,
    );
    // A write that arrives after a later one (a first use behind a heartbeat) shrinks nothing.
    await store.sessions.recordActivity("s", { languages: ["node"], calls: 1 }, 20_000);
    expect(await store.sessions.getByScrape("sc")).toMatchObject({
      languages: ["node", "python"],
      calls: 3,
      lastUrl: page,
    });
    await store.sessions.markRecorded("s");
    await store.sessions.countFile("s");
    await store.sessions.countFile("s", 2);
    // A leftover a restart ends keeps what was written while it lived.
    const [left] = await store.sessions.endNode("n", "server_restarted");
    // ...and ends when it was last known alive: the latest of those writes.
    expect(left).toMatchObject({
      destroyedAt: 40_000,
      languages: ["node", "python"],
      calls: 3,
      lastUrl: page,
    });
    // An ended session's history is no longer written over.
    await store.sessions.recordActivity(
      "s",
      { languages: ["node", "python", "bash"], calls: 9 },
      70_000,
    );
    expect(
      await store.credits.settle({ teamId: team, sessionId: "s", charge: 2, at: 60_000 }),
    ).toBe(2);
    const again = await (await reopen()).sessions.getByScrape("sc");
    expect(again).toMatchObject({
      status: "destroyed",
      destroyReason: "server_restarted",
      destroyedAt: 40_000,
      languages: ["node", "python"],
      calls: 3,
      lastUrl: page,
      creditsBilled: 2,
      recorded: true,
      files: 3,
    });
  });

  test("a session's end writes its last activity; an unknown address keeps the last one written", async () => {
    const { store } = await kind.fresh();
    for (const id of ["a", "b"]) {
      await claimOf(store, id, `sc-${id}`, "t", 1_000);
      await store.sessions.activate(id, `h-${id}`, 1_000);
      await store.sessions.recordActivity(
        id,
        { languages: ["node"], calls: 1, lastUrl: "https://x/1" },
        1_500,
      );
    }
    const last = { languages: ["node", "bash"], calls: 4 };
    expect(
      await store.sessions.end("a", "stopped", 2_000, { ...last, lastUrl: "https://x/2" }),
    ).toBe(true);
    expect(await store.sessions.end("b", "browser_crashed", 2_000, last)).toBe(true);
    // A second end (another node, a stop racing a TTL) writes nothing.
    expect(await store.sessions.end("a", "ttl", 3_000, { languages: [], calls: 0 })).toBe(false);
    await store.sessions.markBilled("a", 7);
    expect(await store.sessions.getByScrape("sc-a")).toMatchObject({
      destroyReason: "stopped",
      languages: ["node", "bash"],
      calls: 4,
      lastUrl: "https://x/2",
      creditsBilled: 7,
    });
    expect(await store.sessions.getByScrape("sc-b")).toMatchObject({
      languages: ["node", "bash"],
      calls: 4,
      lastUrl: "https://x/1",
      creditsBilled: null,
    });
  });

  test("a lost node's sessions end once, however many nodes end them at once; others untouched", async () => {
    const { store } = await kind.fresh();
    const claimOn = (id: string, nodeId: string) =>
      store.sessions.claim({ id, scrapeId: `sc-${id}`, teamId: "t", nodeId, at: 1_000 });
    for (const id of ["a1", "a2"]) {
      await claimOn(id, "node-a");
      await store.sessions.activate(id, `h-${id}`, 1_000);
    }
    await claimOn("a3", "node-a"); // still starting: its browser died with its node too
    await claimOn("b1", "node-b");
    await store.sessions.activate("b1", "h-b1", 1_000);
    await store.sessions.markSeen("node-a", 9_000, ["a1"]);
    const calls = await Promise.all(
      [1, 2, 3].map(() => store.sessions.endNode("node-a", "node_lost")),
    );
    const ended = calls.flat();
    expect(ended.map((r) => r.id).sort()).toEqual(["a1", "a2", "a3"]);
    expect(ended.find((r) => r.id === "a1")).toMatchObject({
      status: "destroyed",
      destroyReason: "node_lost",
      destroyedAt: 9_000,
    });
    expect(ended.find((r) => r.id === "a2")?.destroyedAt).toBe(1_000);
    expect(await store.sessions.endNode("node-a", "node_lost")).toEqual([]);
    expect((await store.sessions.getByScrape("sc-b1"))?.status).toBe("active");
  });

  test("sessions of nodes lost long enough ago end once; a node lost later, or rejoined, keeps its own", async () => {
    const { store } = await kind.fresh();
    const node = (id: string) =>
      store.nodes.publish(
        {
          id,
          url: `http://${id}`,
          capacity: 2,
          live: 1,
          draining: false,
          startedAt: 0,
          heartbeatAt: 0,
        },
        true,
      );
    for (const [id, nodeId] of [
      ["x1", "node-x"],
      ["y1", "node-y"],
      ["z1", "node-z"],
    ] as const) {
      await node(nodeId);
      await store.sessions.claim({ id, scrapeId: `sc-${id}`, teamId: "t", nodeId, at: 1_000 });
      await store.sessions.activate(id, `h-${id}`, 1_000);
    }
    expect(await store.nodes.markLost("node-x", 5_000, 10_000)).toBe(true);
    expect(await store.nodes.markLost("node-y", 5_000, 20_000)).toBe(true);
    const calls = await Promise.all(
      [1, 2].map(() => store.sessions.endOfLostNodes(15_000, "node_lost")),
    );
    expect(calls.flat().map((r) => [r.id, r.destroyReason])).toEqual([["x1", "node_lost"]]);
    // node-y was declared lost after the cut-off; node-z never was.
    expect((await store.sessions.getByScrape("sc-y1"))?.status).toBe("active");
    expect((await store.sessions.getByScrape("sc-z1"))?.status).toBe("active");
    await node("node-y"); // it rejoined: what it holds is its own again
    expect(await store.sessions.endOfLostNodes(30_000, "node_lost")).toEqual([]);
  });

  test("any of a session's three tokens finds it while it is active, and says which it is", async () => {
    const { store } = await kind.fresh();
    await claimOf(store, "s", "sc");
    expect(await store.sessions.ownerOfToken("h-cdp")).toBeUndefined();
    await store.sessions.activate("s", "h-cdp", 1_000, { view: "h-view", control: "h-control" });
    for (const use of ["cdp", "view", "control"] as const) {
      const owner = await store.sessions.ownerOfToken(`h-${use}`);
      expect(owner?.use).toBe(use);
      expect(owner?.record).toMatchObject({ id: "s", nodeId: "n", status: "active" });
    }
    expect(await store.sessions.ownerOfToken("h-other")).toBeUndefined();
    await store.sessions.end("s", "stopped", 2_000);
    expect(await store.sessions.ownerOfToken("h-view")).toBeUndefined();
  });

  test("nodes publish themselves; a stale one is declared lost once, and rejoins by starting", async () => {
    const { store } = await kind.fresh();
    const node = (id: string, heartbeatAt: number, over = {}) => ({
      id,
      url: `http://${id}:3002`,
      capacity: 8,
      live: 1,
      draining: false,
      startedAt: 1_000,
      heartbeatAt,
      ...over,
    });
    expect(await store.nodes.publish(node("a", 1_000), true)).toEqual({
      lost: false,
      draining: false,
    });
    // A first heartbeat with no row yet writes it.
    expect(await store.nodes.publish(node("b", 1_000), false)).toEqual({
      lost: false,
      draining: false,
    });
    expect(await store.nodes.publish(node("b", 20_000, { live: 3 }), false)).toEqual({
      lost: false,
      draining: false,
    });
    expect(await store.nodes.list()).toEqual([
      { ...node("a", 1_000), lostAt: null },
      { ...node("b", 20_000, { live: 3 }), lostAt: null },
    ]);
    // Only a heartbeat older than the cutoff is lost, and only one of the nodes noticing wins.
    expect(await store.nodes.markLost("b", 15_000, 21_000)).toBe(false);
    const wins = await Promise.all([1, 2, 3].map(() => store.nodes.markLost("a", 15_000, 21_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect((await store.nodes.get("a"))?.lostAt).toBe(21_000);
    // Its heartbeat writes nothing and says so; starting again clears the loss.
    expect(await store.nodes.publish(node("a", 22_000), false)).toEqual({
      lost: true,
      draining: false,
    });
    expect((await store.nodes.get("a"))?.heartbeatAt).toBe(1_000);
    await store.nodes.publish(node("a", 23_000), true);
    expect(await store.nodes.get("a")).toMatchObject({ lostAt: null, heartbeatAt: 23_000 });
    expect(await store.nodes.get("nobody")).toBeUndefined();
  });

  test("a draining flag set from outside stays set through heartbeats and comes back with them", async () => {
    const { store } = await kind.fresh();
    const node = { id: "a", url: "http://a", capacity: 2, live: 0, draining: false, startedAt: 1 };
    await store.nodes.publish({ ...node, heartbeatAt: 1 }, true);
    expect(await store.nodes.setDraining("a", true)).toBe(true);
    expect(await store.nodes.setDraining("nobody", true)).toBe(false);
    expect(await store.nodes.publish({ ...node, heartbeatAt: 2 }, false)).toEqual({
      lost: false,
      draining: true,
    });
    expect((await store.nodes.get("a"))?.draining).toBe(true);
    // A node starting again starts not draining.
    await store.nodes.publish({ ...node, heartbeatAt: 3 }, true);
    expect((await store.nodes.get("a"))?.draining).toBe(false);
  });

  test("releasing a claim whose activation answer was lost gives back what it held", async () => {
    const { store } = await kind.fresh();
    const team = await teamWith(store, 50);
    await store.sessions.claim(
      { id: "s", scrapeId: "sc", teamId: team, nodeId: "n", at: 5 },
      { maxSessions: 3, reserve: 20 },
    );
    await store.sessions.activate("s", "h", 6);
    await store.sessions.release("s", 7);
    expect(await store.sessions.getByScrape("sc")).toBeUndefined();
    expect(await store.credits.balance(team)).toEqual({ available: 50, reserved: 0 });
  });

  test("usage: charges less what was refunded of them, per bin and per key; a session's is its opener's", async () => {
    const { store } = await kind.fresh();
    const team = await teamWith(store, 100);
    const other = await teamWith(store, 100, "other");
    const spend = (
      teamId: string,
      scrapeId: string,
      amount: number,
      at: number,
      key: string | null,
    ) =>
      store.credits.spend({
        teamId,
        amount,
        scrapeId,
        nodeId: "n",
        ref: `scrape:${scrapeId}`,
        note: "scrape",
        at,
        apiKeyId: key,
      });
    // Held 3, used 1: 2 come back after it was stored.
    await spend(team, "a", 3, 100, "k1");
    await store.scrapes.insert(record("a", { teamId: team }));
    await store.credits.refund({
      teamId: team,
      amount: 2,
      scrapeId: "a",
      ref: "scrape-refund:a",
      note: "unused",
      at: 150,
    });
    // Failed at the target: the price is kept (a refund of 0).
    await spend(team, "b", 1, 200, "k2");
    const close = (scrapeId: string, amount?: number) =>
      store.credits.resolveScrapeCharge({
        scrapeId,
        ref: `scrape-refund:${scrapeId}`,
        note: "failed",
        amount,
        at: 1_150,
      });
    await close("b", 0);
    // The server's own failure, in the next bin, with no key: refunded whole.
    await spend(team, "c", 1, 1_100, null);
    await close("c");
    // A session opened by k2: its charge is k2's; the refund of its reservation is no usage.
    await store.sessions.claim(
      { id: "s", scrapeId: "s", teamId: team, nodeId: "n", at: 1_200, apiKeyId: "k2" },
      { maxSessions: 3, reserve: 10 },
    );
    await store.sessions.end("s", "stopped", 1_300);
    expect(await store.credits.settle({ teamId: team, sessionId: "s", charge: 4, at: 1_300 })).toBe(
      4,
    );
    // A session that could not start gives its reservation back: nothing used.
    await store.sessions.claim(
      { id: "r", scrapeId: "r", teamId: team, nodeId: "n", at: 1_400, apiKeyId: "k1" },
      { maxSessions: 3, reserve: 10 },
    );
    await store.sessions.release("r", 1_400);
    // Another team's, and one past the window.
    await spend(other, "o", 5, 300, "k9");
    await spend(team, "late", 1, 2_500, "k1");

    const bounds = [0, 1_000, 2_000];
    const sorted = (rows: { bin: number; apiKeyId: string | null; credits: number }[]) =>
      rows.sort((x, y) => x.bin - y.bin || String(x.apiKeyId).localeCompare(String(y.apiKeyId)));
    expect(await store.credits.usage({ teamId: team, bounds, byKey: false })).toEqual([
      { bin: 0, apiKeyId: null, credits: 2 },
      { bin: 1, apiKeyId: null, credits: 4 },
    ]);
    expect(sorted(await store.credits.usage({ teamId: team, bounds, byKey: true }))).toEqual([
      { bin: 0, apiKeyId: "k1", credits: 1 },
      { bin: 0, apiKeyId: "k2", credits: 1 },
      { bin: 1, apiKeyId: "k2", credits: 4 },
      { bin: 1, apiKeyId: null, credits: 0 },
    ]);
    expect(await store.credits.usage({ teamId: team, bounds: [0, 3_000], byKey: false })).toEqual([
      { bin: 0, apiKeyId: null, credits: 7 },
    ]);
    expect(await store.credits.usage({ teamId: "nobody", bounds, byKey: true })).toEqual([]);
    expect(await store.credits.granted(team)).toBe(100);
    expect(await store.credits.granted("nobody")).toBe(0);
    const charges = (await store.credits.entries(team, 20)).filter((e) => e.kind === "charge");
    expect(charges.map((e) => [e.scrapeId ?? e.sessionId, e.apiKeyId]).sort()).toEqual(
      [
        ["a", "k1"],
        ["b", "k2"],
        ["c", null],
        ["late", "k1"],
        ["s", "k2"],
      ].sort(),
    );
  });

  test("a team's latest scrape is when its newest record was written", async () => {
    const { store } = await kind.fresh();
    expect(await store.scrapes.latestOfTeam("t1")).toBeUndefined();
    await store.scrapes.insert(record("x", { teamId: "t1", createdAt: 5_000 }));
    await store.scrapes.insert(record("y", { teamId: "t1", createdAt: 9_000 }));
    await store.scrapes.insert(record("z", { teamId: "t2", createdAt: 20_000 }));
    expect(await store.scrapes.latestOfTeam("t1")).toBe(9_000);
  });

  test("profiles: one writer's lease at a time, saved only by its holder, kept per team", async () => {
    const { store } = await kind.fresh();
    const open = (writer: string | undefined, at: number, teamId = "t1") =>
      store.profiles.checkout({
        teamId,
        name: "p",
        writer: writer ? { id: writer, until: at + 1_000 } : undefined,
        at,
      });
    const [a, b] = await Promise.all([open("a", 10), open("b", 10)]);
    expect([a.ok, b.ok].sort()).toEqual([false, true]);
    const holder = a.ok ? "a" : "b";
    const other = a.ok ? "b" : "a";
    expect(await open(undefined, 20)).toEqual({ ok: true, state: null });
    expect(
      await store.profiles.save({ teamId: "t1", name: "p", writerId: other, state: 1, at: 30 }),
    ).toBe(false);
    expect(await store.profiles.delete("t1", "p", 40)).toBe("in_use");
    expect(
      await store.profiles.save({
        teamId: "t1",
        name: "p",
        writerId: holder,
        state: { c: 1 },
        at: 50,
      }),
    ).toBe(true);
    // Saved once: the lease went with the save.
    expect(
      await store.profiles.save({ teamId: "t1", name: "p", writerId: holder, state: 2, at: 60 }),
    ).toBe(false);
    expect(await open(undefined, 70)).toEqual({ ok: true, state: { c: 1 } });
    // A writer that died unseen frees the profile when its lease runs out.
    expect((await open("c", 100)).ok).toBe(true);
    expect((await open("d", 500)).ok).toBe(false);
    expect((await open("d", 1_200)).ok).toBe(true);
    // Another team's "p" is another profile.
    expect(await open("e", 1_300, "t2")).toEqual({ ok: true, state: null });
    expect((await store.profiles.list("t1", 1_300)).map((p) => [p.name, p.inUse])).toEqual([
      ["p", true],
    ]);
    await store.profiles.release({ teamId: "t1", name: "p", writerId: "d" });
    expect(await store.profiles.delete("t1", "p", 1_400)).toBe("deleted");
    expect(await store.profiles.delete("t1", "p", 1_400)).toBe("missing");
  });
  test("downloads: listed by session oldest first, their expiry moved at the session's end, swept", async () => {
    const { store } = await kind.fresh();
    const row = (id: string, at: number, sessionKey = "scrape-1") => ({
      id,
      sessionId: "session-1",
      sessionKey,
      teamId: "team-1",
      name: `${id}.csv`,
      mimeType: "text/csv",
      size: 6_000_000_000,
      state: "completed" as const,
      file: `${id}.bin`,
      createdAt: at,
      expiresAt: at + 1_000,
    });
    await store.downloads.add(row("b", 2));
    await store.downloads.add(row("a", 1));
    await store.downloads.add({ ...row("c", 3, "scrape-2"), state: "failed", file: null });
    expect((await store.downloads.ofSession("scrape-1")).map((d) => d.id)).toEqual(["a", "b"]);
    expect(await store.downloads.get("c")).toEqual({
      ...row("c", 3, "scrape-2"),
      state: "failed",
      file: null,
    });
    expect((await store.downloads.expired(1_001, 10)).map((d) => d.id)).toEqual(["a"]);
    await store.downloads.expireWith("session-1", 5_000);
    expect(await store.downloads.expired(4_999, 10)).toEqual([]);
    expect((await store.downloads.expired(5_000, 10)).length).toBe(3);
    await store.downloads.remove("a");
    expect(await store.downloads.get("a")).toBeUndefined();
  });
});

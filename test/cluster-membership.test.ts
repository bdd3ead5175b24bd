import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runAdmin } from "../src/admin/commands.js";
import type { SessionEnded } from "../src/sessions/lifetimes.js";
import { startMain, type MainProcess } from "./helpers/main-process.js";
import { createTestDatabase, dropTestDatabases } from "./helpers/postgres.js";
import { freePort } from "./helpers/ports.js";
import { closeAll, startTestServer, type TestServer } from "./helpers/server.js";
import { makeTeam, teamClient } from "./helpers/team-client.js";

/**
 * Nodes on one Postgres: two servers in this process (node-a, node-b) and one in a process of
 * its own (node-c) that is SIGKILLed. NODE_LOST_SECONDS is an hour, so no heartbeat timer fires
 * while the file runs: the test moves each node's clock with `membership.tick(now)`, a third of
 * that hour at a time as the timer would, and every decision is one a real heartbeat makes.
 */
const LOST_MS = 3_600_000;
const SECRET = "a-cluster-secret-of-at-least-32-characters";

let databaseUrl: string;
let a: TestServer;
let b: TestServer;
let c: MainProcess | undefined;
/** SessionEnded events heard in this process, by the node that emitted them. */
const ended: { node: string; event: SessionEnded }[] = [];
/** The clock the nodes in this process heartbeat at (moved on by the tests). */
let clock = Date.now();

async function nodeEnv(nodeId: string): Promise<Record<string, string>> {
  const port = await freePort();
  return {
    NODE_ID: nodeId,
    PORT: String(port),
    NODE_URL: `http://127.0.0.1:${port}`,
    CLUSTER_SECRET: SECRET,
    DATABASE_URL: databaseUrl,
    NODE_LOST_SECONDS: String(LOST_MS / 1000),
    USE_DB_AUTHENTICATION: "true",
    ALLOW_PRIVATE_NETWORK: "true",
    SESSION_TTL_SECONDS: "120",
    MAX_BROWSER_SESSIONS: "4",
  };
}

async function startNode(nodeId: string): Promise<TestServer> {
  return startTestServer(await nodeEnv(nodeId), {
    onSessionEnded: (event) => ended.push({ node: nodeId, event }),
  });
}

/** Every in-process node still running heartbeats at `at`, one after another. */
async function heartbeat(at: number, ...nodes: TestServer[]): Promise<void> {
  for (const n of nodes) await n.services.membership!.tick(at);
}

const endsOf = (sessionId: string) => ended.filter((e) => e.event.sessionId === sessionId);

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  [a, b] = await Promise.all([startNode("node-a"), startNode("node-b")]);
});
afterAll(async () => {
  await c?.kill();
  await closeAll(a, b);
  await dropTestDatabases();
});

describe("nodes on one Postgres", () => {
  let team: { id: string; key: string };
  let onA: string;

  test("each node publishes itself, and sees the others as peers", async () => {
    c = await startMain(await nodeEnv("node-c"));
    const nodes = await a.services.store.nodes.list();
    expect(nodes.map((n) => n.id)).toEqual(["node-a", "node-b", "node-c"]);
    for (const n of nodes) {
      expect(n).toMatchObject({ capacity: 4, live: 0, draining: false, lostAt: null });
    }
    expect(nodes.find((n) => n.id === "node-c")?.url).toBe(c.url);
    await heartbeat(clock, a, b);
    const peers = a.services.membership!.peers(clock);
    expect(peers.map((p) => p.id)).toEqual(["node-b", "node-c"]);
    expect(peers[0]).toMatchObject({ url: b.url, free: 4 });
    expect(await a.services.membership!.urlOf("node-c")).toBe(c.url);
    expect((await fetch(`${a.url}/health/ready`)).status).toBe(200);
  });

  test("a killed node is declared lost by exactly one other: its sessions end node_lost, billed once, others untouched", async () => {
    const t = await makeTeam(a, "cluster", 100);
    team = t;
    const viaC = teamClient(c!, t.key);
    const viaA = teamClient(a, t.key);
    const made = await viaC.browser.create();
    expect(made.status).toBe(200);
    const onC: string = made.body.id;
    const madeA = await viaA.browser.create();
    expect(madeA.status).toBe(200);
    onA = madeA.body.id;
    expect((await a.services.store.sessions.getByScrape(onC))?.nodeId).toBe("node-c");

    await c!.kill();
    // A third of NODE_LOST_SECONDS on: node-c's silence is not long enough yet.
    clock += LOST_MS / 3;
    await heartbeat(clock, a, b);
    clock += LOST_MS / 3;
    await heartbeat(clock, a, b);
    expect((await a.services.store.nodes.get("node-c"))?.lostAt).toBeNull();
    expect(await viaA.browser.node(onA, "1 + 1")).toBe("2");

    // Past it: both notice at once, one declares it lost and ends its sessions.
    clock += LOST_MS / 3 + 60_000;
    await Promise.all([a.services.membership!.tick(clock), b.services.membership!.tick(clock)]);
    expect((await a.services.store.nodes.get("node-c"))?.lostAt).toBe(clock);
    expect(endsOf(onC)).toHaveLength(1);
    expect(endsOf(onC)[0]!.event.reason).toBe("node_lost");
    expect(a.services.membership!.peers(clock).map((p) => p.id)).toEqual(["node-b"]);

    // Every node answers 410 for it, with the reason.
    for (const node of [a, b]) {
      const gone = await teamClient(node, t.key).browser.execute(onC, {
        code: "1",
        language: "node",
      });
      expect(gone.status).toBe(410);
      expect(gone.body.details).toEqual({ reason: "node_lost" });
    }
    // Billed once, up to when it was last seen; node-a's session holds only its own reservation.
    await expect.poll(async () => (await a.services.store.credits.unsettled()).length).toBe(0);
    const ledger = await a.services.store.credits.entries(t.id, 100);
    expect(ledger.filter((e) => e.kind === "charge" && e.sessionId === onC)).toHaveLength(1);
    const held = ledger.filter((e) => e.kind === "reservation" && e.sessionId === onA);
    expect((await a.services.store.credits.balance(t.id)).reserved).toBe(
      -held.reduce((sum, e) => sum + e.amount, 0),
    );
    // The other node's session is untouched.
    expect(await viaA.browser.node(onA, "2 + 2")).toBe("4");
    expect((await a.services.store.sessions.getByScrape(onA))?.status).toBe("active");
  });

  test("a node that declared another lost and stopped before ending its sessions: the others end them, once", async () => {
    // node-gone held a session and went silent; a node declared it lost, then died itself.
    const store = a.services.store;
    await store.nodes.publish(
      {
        id: "node-gone",
        url: "http://127.0.0.1:9",
        capacity: 4,
        live: 1,
        draining: false,
        startedAt: clock - 60_000,
        heartbeatAt: clock - 60_000,
      },
      true,
    );
    await store.sessions.claim({
      id: "left-1",
      scrapeId: "sc-left-1",
      teamId: team.id,
      nodeId: "node-gone",
      at: clock - 60_000,
    });
    await store.sessions.activate("left-1", "h-left-1", clock - 60_000);
    expect(await store.nodes.markLost("node-gone", clock, clock)).toBe(true);

    // Within a period of the loss, its declarer may still be ending them: nobody else does.
    await heartbeat(clock, a, b);
    expect((await store.sessions.getByScrape("sc-left-1"))?.status).toBe("active");
    // A full period on, the live nodes finish the job: one of them ends it, once.
    clock += LOST_MS;
    await Promise.all([a.services.membership!.tick(clock), b.services.membership!.tick(clock)]);
    expect(await store.sessions.getByScrape("sc-left-1")).toMatchObject({
      status: "destroyed",
      destroyReason: "node_lost",
      destroyedAt: clock - LOST_MS - 60_000,
    });
    expect(endsOf("left-1").map((e) => e.event.reason)).toEqual(["node_lost"]);
    await heartbeat(clock, a, b);
    expect(endsOf("left-1")).toHaveLength(1);
  });

  test("a node declared lost while alive ends what it holds, billed once, and rejoins", async () => {
    // node-a misses its heartbeats (its clock stands still) while node-b's goes on.
    clock += LOST_MS / 3;
    await heartbeat(clock, b);
    clock += LOST_MS / 3;
    await heartbeat(clock, b);
    clock += LOST_MS / 3 + 60_000;
    await heartbeat(clock, b);
    expect((await b.services.store.nodes.get("node-a"))?.lostAt).toBe(clock);
    expect(endsOf(onA)).toEqual([
      { node: "node-b", event: expect.objectContaining({ reason: "node_lost" }) },
    ]);

    // Its next heartbeat finds it lost: its session ends here too, without a second report.
    await heartbeat(clock, a);
    expect(a.services.index.activeCount).toBe(0);
    expect(endsOf(onA)).toHaveLength(1);
    const gone = await teamClient(a, team.key).browser.execute(onA, {
      code: "1",
      language: "node",
    });
    expect(gone.status).toBe(410);
    expect(gone.body.details).toEqual({ reason: "node_lost" });
    const ledger = await a.services.store.credits.entries(team.id, 100);
    expect(ledger.filter((e) => e.kind === "charge" && e.sessionId === onA)).toHaveLength(1);
    expect(await a.services.store.nodes.get("node-a")).toMatchObject({
      lostAt: null,
      heartbeatAt: clock,
    });
    expect(b.services.membership!.peers(clock)).toEqual([]);
    await heartbeat(clock, b);
    expect(b.services.membership!.peers(clock).map((p) => p.id)).toEqual(["node-a"]);
  });

  test("a draining node: readiness 503, new sessions made elsewhere, its live one answers until it ends, then it closes", async () => {
    const viaB = teamClient(b, team.key);
    const made = await viaB.browser.create();
    expect(made.status).toBe(200);
    const onB: string = made.body.id;
    // As SIGTERM does with DRAIN_SECONDS (300 by default among nodes).
    const drained = b.services.drain.start();

    const ready = await fetch(`${b.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).failing).toEqual({ draining: { ok: false } });
    // A new session asked of it is made on a node that takes them.
    const elsewhere = await viaB.browser.create();
    expect(elsewhere.status).toBe(200);
    expect(b.services.index.all().map((s) => s.id)).toEqual([onB]);
    expect(a.services.index.all().map((s) => s.id)).toEqual([elsewhere.body.id]);
    expect((await viaB.browser.stop(elsewhere.body.id)).status).toBe(200);
    expect(await viaB.browser.node(onB, "3 + 3")).toBe("6");
    await expect
      .poll(async () => (await a.services.store.nodes.get("node-b"))?.draining)
      .toBe(true);
    await heartbeat(clock, a);
    expect(a.services.membership!.roomiest(clock)).toBeUndefined();

    // Its last session ends: the drain is over and the server closes.
    expect((await viaB.browser.stop(onB)).status).toBe(200);
    await drained;
    await expect(fetch(`${b.url}/health/live`)).rejects.toThrow();
    expect(endsOf(onB).map((e) => e.event.reason)).toEqual(["stopped"]);
  });

  test("SIGTERM drains a node: its live session answers until it ends, then the process exits", async () => {
    const d = await startMain(await nodeEnv("node-d"));
    try {
      const viaD = teamClient(d, team.key);
      const made = await viaD.browser.create();
      expect(made.status).toBe(200);
      const stopped = d.stop();
      await expect.poll(async () => (await fetch(`${d.url}/health/ready`)).status).toBe(503);
      // A new session asked of it is made on a node that takes them.
      const elsewhere = await viaD.browser.create();
      expect(elsewhere.status).toBe(200);
      expect(a.services.index.all().map((s) => s.id)).toEqual([elsewhere.body.id]);
      expect((await viaD.browser.stop(elsewhere.body.id)).status).toBe(200);
      expect(await viaD.browser.node(made.body.id, "5 + 5")).toBe("10");
      // The node's secret is in its environment, never in its sessions' code.
      const seen = await viaD.browser.node(made.body.id, "JSON.stringify(process.env)");
      expect(seen).not.toContain(SECRET);
      expect((await viaD.browser.stop(made.body.id)).status).toBe(200);
      const output = await stopped;
      expect(output).toContain("SIGTERM: draining");
      expect(output).not.toContain(SECRET);
      const row = await a.services.store.sessions.getByScrape(made.body.id);
      expect(row).toMatchObject({ status: "destroyed", destroyReason: "stopped" });
    } finally {
      await d.kill();
    }
  });

  test("past DRAIN_SECONDS a draining node ends its live sessions with reason shutdown and closes", async () => {
    const e = await startTestServer(
      { ...(await nodeEnv("node-e")), DRAIN_SECONDS: "1" },
      { onSessionEnded: (event) => ended.push({ node: "node-e", event }) },
    );
    try {
      const made = await teamClient(e, team.key).browser.create();
      expect(made.status).toBe(200);
      await e.services.drain.start();
      expect(endsOf(made.body.id).map((x) => x.event.reason)).toEqual(["shutdown"]);
      await expect(fetch(`${e.url}/health/live`)).rejects.toThrow();
    } finally {
      await e.close();
    }
  });

  test("the admin command drains a node through the nodes table, at its next heartbeat", async () => {
    const connect = async () => a.services.teams;
    const nodes = async () => a.services.store.nodes;
    const res = await runAdmin(["drain", "node-a"], connect, nodes);
    expect(res).toMatchObject({ code: 0 });
    expect(res.stdout).toContain("node-a");
    expect((await runAdmin(["drain", "node-x"], connect, nodes)).code).toBe(1);
    expect(a.services.drain.active).toBe(false);
    await heartbeat(clock, a);
    expect(a.services.drain.active).toBe(true);
    // Nothing live: it closes at once.
    await a.services.drain.finished;
    await expect(fetch(`${a.url}/health/live`)).rejects.toThrow();
  });
});

import fs from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { SessionEnded } from "../src/sessions/lifetimes.js";
import { openSqliteStore } from "../src/store/sqlite.js";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { interact, scrapeId, stop } from "./helpers/interact.js";
import { startTestServer, tempDataDir, waitFor } from "./helpers/server.js";

let site: FixtureSite;
beforeAll(async () => {
  site = await startFixtureSite();
});
afterAll(async () => {
  await site?.close();
});

test("every way a session ends is reported once, with its team, reason and duration", async () => {
  const events: SessionEnded[] = [];
  const dataDir = tempDataDir();
  const server = await startTestServer(
    { DATA_DIR: dataDir, SESSION_IDLE_TTL_SECONDS: "60", BROWSER_POOL_SIZE: "3" },
    { onSessionEnded: (e) => events.push(e) },
  );
  const ids: Record<string, string> = {};
  let closed = false;
  try {
    for (const name of ["stopped", "crashed", "idle"]) {
      ids[name] = await scrapeId(server.url, { url: `${site.url}/` });
      expect((await interact(server.url, ids[name]!, { code: "1" })).status).toBe(200);
    }
    const stopped = await stop(server.url, ids.stopped!);
    expect(stopped.status).toBe(200);
    const crashed = server.services.sessions.get(ids.crashed!)!;
    process.kill(-crashed.resources.proc.pid, "SIGKILL");
    // Idle since a minute ago, as far as the sweep can tell: the test moves the clock, not the
    // machine's speed (the other sessions never come near their idle time).
    server.services.sessions.get(ids.idle!)!.lastUsedAt -= 60_000;
    expect(await waitFor(() => events.length === 3, 20_000)).toBe(true);

    ids.shutdown = await scrapeId(server.url, { url: `${site.url}/` });
    expect((await interact(server.url, ids.shutdown, { code: "1" })).status).toBe(200);
    await server.close();
    closed = true;

    const byScrape = new Map(events.map((e) => [e.scrapeId, e]));
    expect(events).toHaveLength(4);
    expect(byScrape.get(ids.stopped!)?.reason).toBe("stopped");
    expect(byScrape.get(ids.crashed!)?.reason).toBe("browser_crashed");
    expect(byScrape.get(ids.idle!)?.reason).toBe("idle");
    expect(byScrape.get(ids.shutdown)?.reason).toBe("shutdown");
    for (const e of events) {
      expect(e.teamId).toBe("self-hosted");
      expect(e.usedPrompt).toBe(false);
      expect(e.endedAt).toBeGreaterThanOrEqual(e.startedAt);
    }
    // What DELETE reported is what the event says.
    const s = byScrape.get(ids.stopped!)!;
    expect(stopped.body.sessionDurationMs).toBe(s.endedAt - s.startedAt);
  } finally {
    if (!closed) await server.close();
  }
});

test("a restart ends only its own node's leftover sessions, reporting each once", async () => {
  const dataDir = tempDataDir();
  // Rows a killed earlier run of this node, and a live other node, left in a shared database.
  const store = await openSqliteStore(dataDir);
  const seenAt = Date.now() - 60_000;
  for (const [id, nodeId] of [
    ["own", "node-a"],
    ["other", "node-b"],
  ] as const) {
    const claim = await store.sessions.claim({
      id: `${id}-session`,
      scrapeId: `${id}-scrape`,
      teamId: "self-hosted",
      nodeId,
      at: seenAt - 30_000,
    });
    expect(claim.outcome).toBe("claimed");
    expect(await store.sessions.activate(`${id}-session`, "digest", seenAt - 30_000)).toBe(true);
    await store.sessions.markSeen(nodeId, seenAt);
  }
  await store.close();

  const events: SessionEnded[] = [];
  const server = await startTestServer(
    { DATA_DIR: dataDir, NODE_ID: "node-a", BROWSER_POOL_SIZE: "0" },
    { onSessionEnded: (e) => events.push(e) },
  );
  try {
    expect(events).toEqual([
      {
        sessionId: "own-session",
        scrapeId: "own-scrape",
        teamId: "self-hosted",
        reason: "server_restarted",
        startedAt: seenAt - 30_000,
        endedAt: seenAt,
        usedPrompt: false,
        // The row keeps no TTL of its own: the server's default.
        ttlMs: 600_000,
      },
    ]);
    expect((await server.services.store.sessions.getByScrape("other-scrape"))?.status).toBe(
      "active",
    );
  } finally {
    await server.close();
  }
});

test("two first calls at once on one scrape share one session; the database holds no usable token", async () => {
  const server = await startTestServer({ BROWSER_POOL_SIZE: "1" });
  try {
    const id = await scrapeId(server.url, { url: `${site.url}/` });
    const [a, b] = await Promise.all([
      interact(server.url, id, { code: "1" }),
      interact(server.url, id, { code: "2" }),
    ]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.sessionId).toBe(b.body.sessionId);
    expect(server.services.sessions.activeCount()).toBe(1);

    const token = new URL(a.body.cdpUrl).pathname.split("/").pop()!;
    const db = new SQLite(path.join(server.dataDir, "server.db"), { readonly: true });
    try {
      const row = db
        .prepare("select cdp_token_hash, status from sessions where scrape_id = ?")
        .get(id) as { cdp_token_hash: string; status: string };
      expect(row.status).toBe("active");
      expect(row.cdp_token_hash).toBeTruthy();
      expect(row.cdp_token_hash).not.toContain(token);
    } finally {
      db.close();
    }
    for (const f of fs.readdirSync(server.dataDir).filter((f) => f.startsWith("server.db"))) {
      expect(fs.readFileSync(path.join(server.dataDir, f)).includes(token)).toBe(false);
    }
  } finally {
    await server.close();
  }
});

test("a long task runs in the session's queue with code's timeout semantics", async () => {
  const server = await startTestServer({ BROWSER_POOL_SIZE: "1" });
  try {
    const id = await scrapeId(server.url, { url: `${site.url}/` });
    expect((await interact(server.url, id, { code: "1" })).status).toBe(200);
    const session = server.services.sessions.get(id)!;
    const order: string[] = [];

    // A task that honours its signal, then one that ignores it: both end as a timed-out run.
    const nothing = { stdout: "", stderr: "", result: "", exitCode: 0, killed: false };
    const polite = session.task(
      ({ signal }) =>
        new Promise<typeof nothing>((resolve) =>
          signal.addEventListener("abort", () => {
            order.push("task aborted");
            resolve({ stdout: "step 1\n", stderr: "", result: "", exitCode: 0, killed: false });
          }),
        ),
      300,
      () => nothing,
    );
    const code = interact(server.url, id, { code: "await page.title()" }).then((r) => {
      order.push("code ran");
      return r;
    });
    const stubborn = session.task(
      () => new Promise<typeof nothing>(() => {}),
      200,
      () => ({ ...nothing, stdout: "so far\n" }),
    );

    const first = await polite;
    expect(first).toMatchObject({ killed: true, exitCode: 124, stdout: "step 1\n" });
    expect((await code).body.success).toBe(true);
    expect(order).toEqual(["task aborted", "code ran"]);
    expect(await stubborn).toMatchObject({ killed: true, exitCode: 124, stdout: "so far\n" });
    // The session carries on.
    expect((await interact(server.url, id, { code: "1 + 1" })).body.result).toBe("2");
  } finally {
    await server.close();
  }
});

import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import SQLite from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sessionCredits } from "../src/teams/rates.js";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { startPostgresCluster, type PostgresCluster } from "./helpers/postgres.js";
import { closeAll, startTestServer, type TestServer } from "./helpers/server.js";
import { makeTeam, teamClient, type Reply } from "./helpers/team-client.js";
import { canMount, mountTmpfs, unmount } from "./helpers/tmpfs.js";

/**
 * What a database outage costs: a real Postgres stopped, or SQLite's disk filled, while sessions
 * end (idle, DELETE, TTL), a scrape finishes and keys call. Afterwards nothing is left active or
 * held, every bill is the session's real life, every charged scrape is stored or refunded, and
 * clients heard 503 (or 507 for a full disk) with Retry-After, never 500.
 */

/** A page that answers only when the test opens it: a scrape charged before an outage. */
async function startGate() {
  let arrived!: () => void;
  const arrival = new Promise<void>((resolve) => (arrived = resolve));
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const server = http.createServer((req, res) => {
    arrived();
    void opened.then(() => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<!doctype html><title>Gate</title><p>through the gate</p>");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    arrival,
    open,
    close: () => {
      open();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An outage: how to start and end it, and what the server is started with. */
interface Outage {
  env: Record<string, string>;
  /** Status of an answer the outage blocks: 503, or 507 for SQLite's full disk. */
  blocked: number;
  /** Whether the database can still be read during it (a full disk only stops writes). */
  readable: boolean;
  begin(): Promise<void>;
  end(): Promise<void>;
  dispose(): Promise<void>;
}

async function postgresOutage(): Promise<Outage> {
  // A cluster of this file's own: stopping it affects no other test file.
  const cluster: PostgresCluster = await startPostgresCluster(
    process.env.FC_TEST_TMP ?? os.tmpdir(),
  );
  return {
    env: { DATABASE_URL: cluster.url },
    blocked: 503,
    readable: false,
    begin: () => cluster.halt(),
    end: () => cluster.resume(),
    dispose: () => cluster.stop(),
  };
}

async function fullDiskOutage(): Promise<Outage> {
  const mountPoint = mountTmpfs("64m");
  const dataDir = path.join(mountPoint, "data");
  const filler = path.join(mountPoint, "filler");
  return {
    env: { DATA_DIR: dataDir },
    blocked: 507,
    readable: true,
    begin: async () => {
      // An empty write-ahead log first, so that every write from now on needs new room.
      const db = new SQLite(path.join(dataDir, "server.db"));
      try {
        db.pragma("busy_timeout = 5000");
        db.pragma("wal_checkpoint(TRUNCATE)");
      } finally {
        db.close();
      }
      const fd = fs.openSync(filler, "w");
      try {
        for (const size of [1024 * 1024, 4096, 1]) {
          const chunk = Buffer.alloc(size, 1);
          try {
            for (;;) fs.writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
          }
        }
      } finally {
        fs.closeSync(fd);
      }
    },
    end: async () => fs.rmSync(filler, { force: true }),
    dispose: async () => unmount(mountPoint),
  };
}

let site: FixtureSite;
beforeAll(async () => {
  site = await startFixtureSite();
});
afterAll(() => closeAll(site));

const KINDS = [
  { name: "a stopped Postgres", make: postgresOutage, skip: false },
  // Skipped only where a tmpfs cannot be mounted (not root, or mount refused in a container).
  {
    name: "SQLite on a full disk (needs root to mount a tmpfs)",
    make: fullDiskOutage,
    skip: !canMount,
  },
];

/** How long the server keeps a key it has looked up (API_KEY_CACHE_SECONDS). */
const KEY_CACHE_SECONDS = 2;
/**
 * How long the outage lasts at least, the calls going on all along: three times the key cache,
 * so that every key's cached entry has run out while the database is still down.
 */
const OUTAGE_MS = 3 * KEY_CACHE_SECONDS * 1000;

describe.each(KINDS)("an outage of $name", ({ make, skip }) => {
  let outage: Outage | undefined;
  let server: TestServer | undefined;
  let gate: Awaited<ReturnType<typeof startGate>> | undefined;
  beforeAll(async () => {
    if (skip) return;
    outage = await make();
    gate = await startGate();
    server = await startTestServer({
      USE_DB_AUTHENTICATION: "true",
      ALLOW_PRIVATE_NETWORK: "true",
      // Shorter than the outage: keys stay usable past it only for their live sessions.
      API_KEY_CACHE_SECONDS: String(KEY_CACHE_SECONDS),
      ...outage.env,
    });
  }, 120_000);
  afterAll(async () => {
    await closeAll(server, gate);
    await outage?.dispose();
  }, 120_000);

  test.skipIf(skip)(
    "costs nobody credits, leaves nothing active or held, and answers 503 (507) with Retry-After, never 500",
    async () => {
      const s = server!;
      const o = outage!;
      const team = await makeTeam(s, "outage", 1_000);
      await s.services.teams.setMaxSessions(team.id, 4);
      const unseen = await s.services.teams.createKey(team.id);
      const c = teamClient(s, team.key);
      const other = teamClient(s, unseen.key);
      // A team whose key was used just now, but which has no session to keep alive.
      const quiet = await makeTeam(s, "outage-quiet", 10);
      expect((await teamClient(s, quiet.key).credits()).status).toBe(200);

      // Before: a session that goes on through the outage, one to DELETE, one to end by idling,
      // one to end by its TTL, a stored scrape for a session attempted during the outage, and a
      // scrape charged and under way when the database goes.
      const siteUrl = `${site.url}/`;
      const liveScrape = await c.scrapeId(siteUrl);
      expect((await c.interact(liveScrape, { code: "1" })).status).toBe(200);
      const delScrape = await c.scrapeId(siteUrl);
      expect((await c.interact(delScrape, { code: "1" })).status).toBe(200);
      const laterScrape = await c.scrapeId(siteUrl);
      const inFlight = fetch(`${s.url}/v2/scrape`, {
        method: "POST",
        headers: { authorization: `Bearer ${team.key}`, "content-type": "application/json" },
        body: JSON.stringify({ url: gate!.url, timeout: 120_000, maxAge: 0 }),
      });
      await gate!.arrival;
      const idle = await c.browser.create({ ttl: 3600, activityTtl: 10 });
      expect(idle.status).toBe(200);
      const ttl = await c.browser.create({ ttl: 30, activityTtl: 3600 });
      expect(ttl.status).toBe(200);
      // A screenshot saved before: on Postgres its bytes are in the database too.
      const shot = `${s.url}/v2/files/${await s.services.files.save(Buffer.from("png"), "png")}`;
      expect(s.services.sessions.activeCount()).toBe(4);

      const answers: { what: string; reply: Reply }[] = [];
      const note = (what: string, reply: Reply) => (answers.push({ what, reply }), reply);

      await o.begin();
      const downAt = Date.now();

      // The scrape under way finishes into an outage: its answer says so, its credit comes back.
      gate!.open();
      const flight = await inFlight;
      note("scrape in flight", {
        status: flight.status,
        headers: flight.headers,
        body: await flight.json(),
      });
      expect(flight.status).toBe(o.blocked);

      // Ending sessions: DELETE reports what will be billed; idling and the TTL are driven here.
      const deleted = note("DELETE", await c.stop(delScrape));
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({ success: true, status: "stopped" });
      expect(deleted.body.creditsBilled).toBe(
        sessionCredits(deleted.body.sessionDurationMs, false),
      );
      s.services.lifetimes.sweep(Date.now() + 11_000);
      await expect.poll(() => s.services.sessions.activeCount()).toBe(2);
      s.services.lifetimes.sweep(Date.now() + 31_000);
      await expect.poll(() => s.services.sessions.activeCount()).toBe(1);

      // What needs the database is refused as unavailable; what does not keeps working.
      note("new scrape", await c.scrape(siteUrl));
      note("new session", await c.interact(laterScrape, { code: "1" }));
      note("new browser", await c.browser.create({}));
      note("unseen key", await other.credits());
      note("key of a team without sessions", await teamClient(s, quiet.key).credits());
      const file = await fetch(shot);
      note("file", { status: file.status, headers: file.headers, body: await file.text() });
      // Keys go on calling for the outage's whole length, past the key cache's seconds.
      let round = 0;
      while (Date.now() - downAt < OUTAGE_MS || round < 3) {
        round++;
        const run = note("live session", await c.interact(liveScrape, { code: "1 + 1" }));
        expect(run.status, JSON.stringify(run.body)).toBe(200);
        expect(run.body.result).toBe("2");
        note("credit usage", await c.credits());
        await new Promise((r) => setTimeout(r, 500));
      }
      const endedBefore = Date.now();
      await o.end();

      // At once, the slots of the sessions that ended are free: the team's limit is 4.
      const after: string[] = [];
      for (let i = 0; i < 3; i++) {
        const made = await c.browser.create({ ttl: 60 });
        expect(made.status, JSON.stringify(made.body)).toBe(200);
        after.push(made.body.id);
      }
      for (const id of after) expect((await c.browser.stop(id)).status).toBe(200);
      const stoppedLive = await c.stop(liveScrape);
      expect(stoppedLive.status).toBe(200);

      // Clients never saw a 500; what the outage blocked said so, with when to come back.
      for (const { what, reply } of answers) {
        expect(reply.status, `${what}: ${JSON.stringify(reply.body)}`).not.toBe(500);
        if (reply.status >= 500) {
          expect(reply.status, what).toBe(o.blocked);
          expect(Number(reply.headers.get("retry-after")), what).toBeGreaterThan(0);
        }
      }
      const blocked = (what: string) => answers.find((a) => a.what === what)!.reply;
      expect(blocked("new scrape").status).toBe(o.blocked);
      expect(blocked("new session").status).toBe(o.blocked);
      expect(blocked("new browser").status).toBe(o.blocked);
      for (const what of ["unseen key", "key of a team without sessions"]) {
        if (o.readable) expect(blocked(what).status, what).toBe(200);
        else expect(blocked(what).body.code, what).toBe("DATABASE_UNAVAILABLE");
      }
      if (o.readable) expect(blocked("file").body).toBe("png");
      else expect(JSON.parse(blocked("file").body).code).toBe("DATABASE_UNAVAILABLE");

      // Nothing is left active or held.
      const store = s.services.store;
      await expect.poll(async () => (await store.sessions.liveOfTeam(team.id)).length).toBe(0);
      await expect.poll(async () => (await store.credits.balance(team.id)).reserved).toBe(0);

      // Every bill is the session's real life, its end fixed when it ended.
      const ledger = await store.credits.entries(team.id, 1_000);
      const ended = {
        stopped: (await store.sessions.getByScrape(delScrape))!,
        idle: (await store.sessions.getByScrape(idle.body.id))!,
        ttl: (await store.sessions.getByScrape(ttl.body.id))!,
      };
      for (const [reason, r] of Object.entries(ended)) {
        expect(r.destroyReason, reason).toBe(reason);
        expect(r.destroyedAt!, reason).toBeLessThan(endedBefore);
        expect(r.seenAt!, reason).toBeLessThanOrEqual(r.destroyedAt!);
      }
      expect(ended.stopped.destroyedAt! - ended.stopped.createdAt).toBe(
        deleted.body.sessionDurationMs,
      );
      const live = (await store.sessions.getByScrape(liveScrape))!;
      for (const r of [...Object.values(ended), live]) {
        const charges = ledger.filter((e) => e.sessionId === r.id && e.kind === "charge");
        const life = Math.min(r.destroyedAt! - r.createdAt, r.ttlMs ?? Infinity);
        expect(charges.map((e) => e.amount)).toEqual([-sessionCredits(life, false)]);
      }
      const billed = (id: string) =>
        -ledger.find((e) => e.sessionId === id && e.kind === "charge")!.amount;
      expect(deleted.body.creditsBilled).toBe(billed(ended.stopped.id));
      expect(stoppedLive.body.creditsBilled).toBe(billed(live.id));

      // Every charged scrape is stored or refunded, exactly one of the two.
      await expect
        .poll(async () => {
          const entries = await store.credits.entries(team.id, 1_000);
          const open: string[] = [];
          for (const charge of entries.filter((e) => e.kind === "charge" && e.scrapeId)) {
            const stored = (await store.scrapes.get(charge.scrapeId!)) !== undefined;
            const refunds = entries.filter(
              (e) => e.kind === "refund" && e.scrapeId === charge.scrapeId,
            ).length;
            if (refunds !== (stored ? 0 : 1)) open.push(charge.scrapeId!);
          }
          return open;
        })
        .toEqual([]);
      const refunded = (await store.credits.entries(team.id, 1_000)).filter(
        (e) => e.kind === "refund" && e.scrapeId,
      );
      expect(refunded.length).toBeGreaterThanOrEqual(1);
    },
    180_000,
  );
});

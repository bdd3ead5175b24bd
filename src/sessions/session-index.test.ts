import { afterEach, beforeEach, expect, test } from "vitest";
import { openSqliteStore } from "../store/sqlite.js";
import type { Store } from "../store/repositories.js";
import { WriteRetry } from "../store/write-retry.js";
import { tempDataDir } from "../../test/helpers/server.js";
import { TeamCallQueues } from "./call-queue.js";
import { LiveSession, type SessionShape } from "./live-session.js";
import { SessionRegistry } from "./registry.js";
import type { SessionResources } from "./resources.js";
import { SessionIndex } from "./session-index.js";

const quiet = { warn: () => {}, info: () => {} };
const shape = (kind: "interact" | "browser"): SessionShape => ({
  kind,
  ttlMs: 60_000,
  idleTtlMs: 60_000,
  streamWebView: true,
});

let store: Store;
let here: SessionRegistry;
let there: SessionRegistry;
let index: SessionIndex;

beforeEach(async () => {
  store = await openSqliteStore(tempDataDir());
  here = new SessionRegistry(store.sessions, "node-a", new WriteRetry({ log: quiet }));
  there = new SessionRegistry(store.sessions, "node-b", new WriteRetry({ log: quiet }));
  index = new SessionIndex({ store, registry: here });
});

afterEach(async () => {
  await store.close();
});

/** A scrape of `teamId`, stored as the scrape endpoint stores one. */
async function scrape(id: string, teamId = "team-1"): Promise<void> {
  await store.scrapes.insert({
    id,
    teamId,
    url: "https://example.com/",
    finalUrl: "https://example.com/",
    statusCode: 200,
    zeroDataRetention: false,
    replayContext: null,
    createdAt: Date.now(),
    profile: null,
  });
}

/** A session as the service makes one; its browser is never touched by the index. */
function session(id: string, key: string, kind: "interact" | "browser", teamId = "team-1") {
  return new LiveSession({
    id,
    scrapeId: key,
    teamId,
    cdpToken: "c".repeat(43),
    resources: {} as SessionResources,
    shape: shape(kind),
    limits: { perSession: 8, team: new TeamCallQueues(16) },
  });
}

test("a scrape's session: absent, being made, live, then ended with its reason", async () => {
  await scrape("s1");
  expect(await index.lookup("s1", "interact", "team-1")).toMatchObject({ state: "absent" });

  const s = session("id-1", "s1", "interact");
  let made!: (v: unknown) => void;
  const making = index.making(
    "s1",
    new Promise((resolve) => (made = resolve)).then(() => index.add(s, "s1")),
  );
  const meanwhile = await index.lookup("s1", "interact", "team-1");
  expect(meanwhile.state).toBe("creating");
  expect(index.activeCount).toBe(1);
  made(undefined);
  const acquired = await making;

  const live = await index.lookup("s1", "interact", "team-1");
  expect(live).toEqual({ state: "live", acquired });
  expect(index.byToken(acquired.viewToken, ["view", "control"])?.use).toBe("view");
  expect(index.byToken(acquired.controlToken, ["view", "control"])?.use).toBe("control");
  expect(index.byToken(s.cdpToken, ["cdp"])?.acquired).toBe(acquired);
  // A token opens only what it was made for.
  expect(index.byToken(acquired.viewToken, ["cdp"])).toBeUndefined();
  expect(index.ofTeam("team-1")).toEqual([s]);

  await s.close("idle").catch(() => {});
  index.remove(s);
  expect(await index.lookup("s1", "interact", "team-1")).toEqual({
    state: "ended",
    reason: "idle",
  });
  // Forgotten under every key at once.
  for (const token of [acquired.viewToken, acquired.controlToken, s.cdpToken]) {
    expect(index.byToken(token, ["cdp", "view", "control"])).toBeUndefined();
  }
  expect(index.ofTeam("team-1")).toEqual([]);
  expect(index.activeCount).toBe(0);
});

test("team and kind are checked in the lookup: 403 for another team, 404 for the wrong kind", async () => {
  await scrape("s2");
  const s = session("id-2", "s2", "interact");
  index.add(s, "s2");
  await expect(index.lookup("s2", "interact", "team-2")).rejects.toMatchObject({
    code: "FORBIDDEN",
  });
  // A scrape's id is not a standalone browser session's.
  await expect(index.lookup("s2", "browser", "team-1")).rejects.toMatchObject({
    code: "SESSION_NOT_FOUND",
  });
  await expect(index.lookup("nope", "interact", "team-1")).rejects.toMatchObject({
    code: "JOB_NOT_FOUND",
  });
  await expect(index.lookup("nope", "browser", "team-1")).rejects.toMatchObject({
    code: "SESSION_NOT_FOUND",
  });
});

test("the shared record answers for sessions not held here: another node's, or ended", async () => {
  await scrape("s3");
  const claim = await there.claim({ scrapeId: "s3", teamId: "team-1", kind: "interact" });
  expect(claim.outcome).toBe("claimed");
  expect(await index.lookup("s3", "interact", "team-1")).toMatchObject({
    state: "elsewhere",
    nodeId: "node-b",
  });
  await store.sessions.end((claim as { record: { id: string } }).record.id, "ttl", Date.now());
  expect(await index.lookup("s3", "interact", "team-1")).toEqual({ state: "ended", reason: "ttl" });

  const b = await there.claim({ id: "b-1", scrapeId: "b-1", teamId: "team-1", kind: "browser" });
  expect(b.outcome).toBe("claimed");
  expect(await index.lookup("b-1", "browser", "team-1")).toMatchObject({ state: "elsewhere" });
  await expect(index.lookup("b-1", "browser", "team-2")).rejects.toMatchObject({
    code: "FORBIDDEN",
  });
});

test("settledLookup waits out a making that fails, then says what is there", async () => {
  await scrape("s4");
  const failing = index.making("s4", Promise.reject(new Error("no browser")));
  const settled = index.settledLookup("s4", "interact", "team-1");
  await expect(failing).rejects.toThrow("no browser");
  expect(await settled).toMatchObject({ state: "absent" });
});

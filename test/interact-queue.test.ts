import http from "node:http";
import v8 from "node:v8";
import vm from "node:vm";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { pidsMentioning, processStat } from "../src/processes/process-table.js";
import type { LiveSession } from "../src/sessions/live-session.js";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { closeAll, startTestServer, type TestServer, waitFor } from "./helpers/server.js";
import { makeTeam, teamClient, type Reply } from "./helpers/team-client.js";

const PER_SESSION = 4;
const PER_TEAM = 6;

let server: TestServer;
let site: FixtureSite;

beforeAll(async () => {
  site = await startFixtureSite();
  // Two teams: the per-team limit is about one team's load against another's.
  server = await startTestServer({
    USE_DB_AUTHENTICATION: "true",
    ALLOW_PRIVATE_NETWORK: "true",
    SESSION_MAX_QUEUED_CALLS: String(PER_SESSION),
    TEAM_MAX_QUEUED_CALLS: String(PER_TEAM),
  });
});
afterAll(() => closeAll(server, site));

/** The live session behind an id the API answered with (this server is in our process). */
function live(sessionId: string): LiveSession {
  const s = server.services.sessions.list().find((x) => x.id === sessionId);
  if (!s) throw new Error(`no live session ${sessionId}`);
  return s;
}

/** Polls faster than waitFor: the flood below waits on it hundreds of times. */
async function until(check: () => boolean, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return check();
}

let gates = 0;

/**
 * Starts a call that holds the session's queue until `release()`: it polls a flag on the page
 * that the test sets over the session's CDP URL, so nothing here depends on how long it runs.
 */
async function hold(
  session: LiveSession,
  cdpUrl: string,
  send: (body: Record<string, unknown>) => Promise<Reply>,
) {
  const flag = `__release${++gates}`;
  const busy = session.busy;
  const done = send({
    code: `while (!(await page.evaluate(() => globalThis.${flag} === true))) await new Promise((r) => setTimeout(r, 20)); "released"`,
    timeout: 300,
  });
  expect(await until(() => session.busy === busy + 1)).toBe(true);
  return {
    done,
    async release(): Promise<Reply> {
      const browser = await chromium.connectOverCDP(cdpUrl);
      try {
        for (const page of browser.contexts()[0]!.pages()) {
          await page.evaluate(`globalThis.${flag} = true`);
        }
      } finally {
        await browser.close();
      }
      return done;
    },
  };
}

/** A call sent over its own connection, so that the test can hang up on it. */
function openCall(path: string, key: string, body: object) {
  const payload = JSON.stringify(body);
  let settled = false;
  const req = http.request(`${server.url}${path}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      "content-length": Buffer.byteLength(payload),
    },
  });
  const response = new Promise<Reply | undefined>((resolve) => {
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        settled = true;
        resolve({
          status: res.statusCode!,
          headers: new Headers(res.headers as Record<string, string>),
          body: JSON.parse(text),
        });
      });
      res.on("error", () => resolve(undefined));
    });
    req.on("error", () => resolve(undefined));
    req.on("close", () => setTimeout(() => resolve(undefined), 0));
  });
  req.end(payload);
  return {
    response,
    get settled() {
      return settled;
    },
    hangUp: () => req.destroy(),
  };
}

/** The garbage collector, which this process was not started with the flag for. */
function collector(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

/** Heap in use after a full collection. */
function heapAfterGc(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

test("a flood of calls whose clients hang up behind a long call: none of them runs, and the server keeps none of their code", async () => {
  const team = await makeTeam(server, "queue-flood", 1_000);
  const client = teamClient(server, team.key);
  const id = await client.scrapeId(`${site.url}/`);
  const first = await client.interact(id, { code: "globalThis.ran = 0; 1" });
  expect(first.body.success).toBe(true);
  const session = live(first.body.sessionId);
  const gate = await hold(session, first.body.cdpUrl, (b) => client.interact(id, b));

  const gc = collector();
  const before = heapAfterGc(gc);
  // Each call is as big as code may be, and counts itself if it ever runs.
  const code = `globalThis.ran++; // ${"x".repeat(99_000)}`;
  const batches = 60;
  let dropped = true;
  for (let i = 0; i < batches; i++) {
    const start = session.busy;
    const calls = Array.from({ length: PER_SESSION }, () =>
      openCall(`/v2/scrape/${id}/interact`, team.key, { code }),
    );
    // Every one of them reached the queue (or was answered) before its client hangs up.
    const settled = () => calls.filter((c) => c.settled).length;
    expect(await until(() => session.busy - start + settled() >= PER_SESSION)).toBe(true);
    for (const c of calls) c.hangUp();
    // On a server that keeps them there is no point waiting for each batch to go.
    if (dropped) dropped = await until(() => session.busy === 1, 3_000);
  }
  const drained = await until(() => session.busy === 1);
  const grown = heapAfterGc(gc) - before;
  const floodBytes = batches * PER_SESSION * code.length;

  expect((await gate.release()).body.result).toBe("released");
  const count = await client.interact(id, { code: "globalThis.ran" });
  expect.soft(drained).toBe(true);
  expect.soft(grown).toBeLessThan(floodBytes / 4);
  expect(count.body.result).toBe("0");
  await client.stop(id);
  // Hundreds of 100 KB requests: on a loaded 2-core machine this took 23 s.
}, 120_000);

test("past its bound a session's queue answers 429 at once with Retry-After; the calls it took run in order", async () => {
  const team = await makeTeam(server, "queue-bound", 1_000);
  const client = teamClient(server, team.key);
  const created = await client.browser.create();
  const sid = created.body.id as string;
  const session = live(sid);
  const gate = await hold(session, created.body.cdpUrl, (b) =>
    client.browser.execute(sid, { ...b, language: "node" }),
  );
  const waiting = Array.from({ length: PER_SESSION }, (_, i) =>
    client.browser.execute(sid, {
      code: `(globalThis.order ??= []).push(${i}); globalThis.order.join(",")`,
      language: "node",
    }),
  );
  expect(await until(() => session.busy === 1 + PER_SESSION)).toBe(true);

  const refused = await client.browser.execute(sid, {
    code: "globalThis.refused = 1",
    language: "node",
  });
  expect(refused.status).toBe(429);
  expect(refused.body).toMatchObject({ success: false, code: "TOO_MANY_CALLS" });
  expect(refused.body.error).toContain(`${PER_SESSION} calls`);
  expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

  expect((await gate.release()).body.result).toBe("released");
  const results = (await Promise.all(waiting)).map((r) => r.body.result);
  expect(results.at(-1)).toBe("0,1,2,3");
  const after = await client.browser.node(sid, "typeof globalThis.refused");
  expect(after).toBe("undefined");
  await client.browser.stop(sid);
});

test("a call's timeout counts from its arrival: one that runs out while waiting is answered as timed out and never runs", async () => {
  const team = await makeTeam(server, "queue-timeout", 1_000);
  const client = teamClient(server, team.key);
  const created = await client.browser.create();
  const sid = created.body.id as string;
  const session = live(sid);
  const gate = await hold(session, created.body.cdpUrl, (b) =>
    client.browser.execute(sid, { ...b, language: "node" }),
  );
  let answered = false;
  const late = client.browser
    .execute(sid, { code: "globalThis.late = true; 'ran'", language: "node", timeout: 1 })
    .finally(() => (answered = true));
  // Its answer comes while the long call still holds the session: it does not wait its turn.
  const inTime = await waitFor(() => answered, 20_000);
  const released = await gate.release();
  expect(inTime).toBe(true);
  expect(released.body.result).toBe("released");
  const res = await late;
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ success: false, killed: true, exitCode: 124, result: "" });
  expect(res.body.error).toMatch(/timed out after 1000 ms.*did not run/);
  expect(await client.browser.node(sid, "typeof globalThis.late")).toBe("undefined");
  await client.browser.stop(sid);
});

test("a team's calls waiting across its sessions are bounded; another team's are not affected", async () => {
  const a = teamClient(server, (await makeTeam(server, "queue-team-a", 1_000)).key);
  const b = teamClient(server, (await makeTeam(server, "queue-team-b", 1_000)).key);
  const open = async (c: typeof a) => {
    const created = await c.browser.create();
    const sid = created.body.id as string;
    const session = live(sid);
    const exec = (body: Record<string, unknown>) =>
      c.browser.execute(sid, { language: "node", ...body });
    const gate = await hold(session, created.body.cdpUrl, exec);
    return { sid, session, exec, gate };
  };
  const [a1, a2, b1] = [await open(a), await open(a), await open(b)];
  const queue = (s: typeof a1, n: number) =>
    Array.from({ length: n }, () =>
      s.exec({ code: "globalThis.queued = (globalThis.queued ?? 0) + 1" }),
    );

  const calls = [...queue(a1, PER_SESSION), ...queue(a2, PER_TEAM - PER_SESSION)];
  expect(await until(() => a1.session.busy + a2.session.busy === 2 + PER_TEAM)).toBe(true);
  // a2's own queue has room, but its team has PER_TEAM calls waiting already.
  const refused = await a2.exec({ code: "globalThis.refused = 1" });
  expect(refused.status).toBe(429);
  expect(refused.body.code).toBe("TOO_MANY_CALLS");
  expect(refused.body.error).toContain(`${PER_TEAM} calls`);
  expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

  // The other team fills its own session's queue as if nobody else were here.
  calls.push(...queue(b1, PER_SESSION));
  expect(await until(() => b1.session.busy === 1 + PER_SESSION)).toBe(true);

  for (const s of [a1, a2, b1]) expect((await s.gate.release()).body.result).toBe("released");
  expect((await Promise.all(calls)).every((r) => r.status === 200 && r.body.success)).toBe(true);
  expect((await a2.exec({ code: "typeof globalThis.refused" })).body.result).toBe("undefined");
  // Once the queue has drained the team may queue again.
  for (const s of [a1, a2, b1]) await (s === b1 ? b : a).browser.stop(s.sid);
});

test("a code worker that died between calls is restarted for the next one, which says so in stderr", async () => {
  const team = await makeTeam(server, "queue-worker", 1_000);
  const client = teamClient(server, team.key);
  const created = await client.browser.create();
  const sid = created.body.id as string;
  expect(await client.browser.node(sid, "globalThis.kept = 41; kept + 1")).toBe("42");

  // Killed from outside, as the kernel's OOM killer or an operator would: wait until the
  // server has reaped the process it started, so the next call meets the death, not a race.
  const dir = live(sid).resources.sandbox.dir;
  const pids = pidsMentioning([dir]);
  const ours = pids.filter((pid) => processStat(pid)?.ppid === process.pid);
  expect(ours.length).toBeGreaterThan(0);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  expect(await waitFor(() => ours.every((pid) => processStat(pid) === undefined))).toBe(true);

  const next = await client.browser.execute(sid, {
    code: "typeof globalThis.kept",
    language: "node",
  });
  expect(next.body).toMatchObject({ success: true, exitCode: 0, result: "undefined" });
  expect(next.body.stderr).toMatch(
    /node interpreter .*restarted.*variables from earlier calls are gone/i,
  );
  // Said once: the call after that has nothing to report.
  const again = await client.browser.execute(sid, { code: "1", language: "node" });
  expect(again.body).toMatchObject({ success: true, stderr: "" });
  await client.browser.stop(sid);
});

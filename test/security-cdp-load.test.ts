import fs from "node:fs";
import v8 from "node:v8";
import vm from "node:vm";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAll, startTestServer, waitFor, type TestServer } from "./helpers/server.js";
import { makeTeam, teamClient } from "./helpers/team-client.js";

// A hostile tenant against the server's memory and connections, through CDP and the live view.
// The servers run in this process, so their RSS is this process's.
let server: TestServer;
let tight: TestServer;

const MB = 1024 * 1024;
/** `tight`'s unread limit, and each reply its attackers ask for: enough to cross it together. */
const BACKLOG_MB = 16;
const REPLY_CHARS = 12_000_000;
const ATTACKERS = 6;
const PER_SESSION = 8;
const PER_TEAM = 10;
const VIEWERS_PER_TEAM = 3;

beforeAll(async () => {
  [server, tight] = await Promise.all([
    startTestServer({
      USE_DB_AUTHENTICATION: "true",
      CDP_MAX_CONNECTIONS: String(PER_SESSION),
      TEAM_MAX_CDP_CONNECTIONS: String(PER_TEAM),
      TEAM_MAX_LIVE_VIEWERS: String(VIEWERS_PER_TEAM),
      CDP_STALL_SECONDS: "1",
    }),
    startTestServer({
      CDP_MAX_CONNECTIONS: String(PER_SESSION),
      // A smaller limit than the default 64 MB, so that crossing it asks less of Chromium.
      CDP_MAX_BACKLOG_MB: String(BACKLOG_MB),
      // Long enough that only the unread limit, not the stall deadline, can free anything.
      CDP_STALL_SECONDS: "3600",
    }),
  ]);
});
afterAll(() => closeAll(server, tight));

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

/** This process's resident memory, after a full collection: what the server holds. */
function rssAfterGc(): number {
  gc();
  gc();
  const line = fs.readFileSync("/proc/self/status", "utf8").match(/^VmRSS:\s+(\d+) kB$/m);
  return Number(line![1]) * 1024;
}

/** A raw CDP client: calls by id, on the browser or on a page session it attached. */
async function cdpClient(url: string) {
  const ws = new WebSocket(url, { maxPayload: 512 * MB });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  ws.on("error", () => {});
  let nextId = 1;
  const waiting = new Map<number, (msg: any) => void>();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg);
  });
  const send = (method: string, params: object = {}, sessionId?: string) => {
    const id = nextId++;
    ws.send(JSON.stringify({ id, method, params, sessionId }));
    return id;
  };
  const call = (method: string, params: object = {}, sessionId?: string) =>
    new Promise<any>((resolve) => waiting.set(send(method, params, sessionId), resolve));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  /** Attaches to the session's page and returns the CDP session id. */
  const attachPage = async () => {
    const { result } = await call("Target.getTargets");
    const page = result.targetInfos.find((t: any) => t.type === "page");
    const attached = await call("Target.attachToTarget", {
      targetId: page.targetId,
      flatten: true,
    });
    return attached.result.sessionId as string;
  };
  return { ws, send, call, attachPage, closed };
}

/** Asks for a reply of `chars` characters on a page session. */
const bigReply = (chars: number) => ({
  expression: `"x".repeat(${chars})`,
  returnByValue: true,
});

/** What an upgrade refused with: status, Retry-After and the JSON body. */
function refusal(url: string): Promise<{ status: number; retryAfter?: string; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => {
      ws.terminate();
      reject(new Error(`${url} was accepted`));
    });
    ws.once("error", () => {});
    ws.once("unexpected-response", (_req, res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += String(c)));
      res.on("end", () => {
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: res.headers["retry-after"] as string | undefined,
          body: JSON.parse(text),
        });
        ws.terminate();
      });
    });
  });
}

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  ws.on("error", () => {});
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
  });
  return ws;
}

async function newBrowser(key: string) {
  const res = await teamClient(server, key).browser.create({ ttl: 600 });
  expect(res.status).toBe(200);
  return res.body as { id: string; cdpUrl: string; liveViewUrl: string };
}

/**
 * A session on `tight`, with a client that reads attached to its page. `settled()` returns once
 * every reply asked of the page so far has reached the server: replies leave a page in order.
 */
async function tightSession() {
  const created = await teamClient(tight).browser.create({ ttl: 600 });
  expect(created.status).toBe(200);
  const { id, cdpUrl } = created.body as { id: string; cdpUrl: string };
  const reader = await cdpClient(cdpUrl);
  const page = await reader.attachPage();
  // A client that reads gets a reply this large in full (and the process has made room once).
  const whole = await reader.call("Runtime.evaluate", bigReply(REPLY_CHARS), page);
  expect(whole.result.result.value).toHaveLength(REPLY_CHARS);
  const mux = tight.services.sessions.list().find((s) => s.id === id)!.resources.proc.cdp;
  return {
    id,
    cdpUrl,
    /** Clients of the session's browser, the server's own included. */
    clients: () => mux.clientCount,
    async settled() {
      const reply = await reader.call("Runtime.evaluate", { expression: "6 * 7" }, page);
      expect(reply.result.result.value).toBe(42);
    },
    async close() {
      reader.ws.close();
      expect((await teamClient(tight).browser.stop(id)).status).toBe(200);
    },
  };
}

describe("clients that stop reading", () => {
  it("cdpUrl clients that stop reading large replies do not pin the server's memory", async () => {
    const session = await tightSession();
    const quiet = session.clients();
    const attackers = [];
    for (let i = 0; i < ATTACKERS; i++) {
      const c = await cdpClient(session.cdpUrl);
      const page = await c.attachPage();
      c.ws.pause(); // and never reads again
      c.send("Runtime.evaluate", bigReply(REPLY_CHARS), page);
      c.send("Runtime.evaluate", bigReply(REPLY_CHARS), page);
      attackers.push(c);
    }
    await session.settled();
    const during = rssAfterGc();
    for (const c of attackers) c.ws.terminate();
    expect(await waitFor(() => session.clients() === quiet)).toBe(true);
    // What the attackers held is what their going freed: at most the unread limit.
    const pinned = during - rssAfterGc();
    expect(pinned).toBeLessThan((ATTACKERS * 2 * REPLY_CHARS) / 4);
    await session.close();
  });

  it("a reply over the session's unread limit closes that connection with a reason, nothing else", async () => {
    const session = await tightSession();
    const c = await cdpClient(session.cdpUrl);
    const page = await c.attachPage();
    const closed = await Promise.race([
      c.closed,
      c.call("Runtime.evaluate", bigReply(2 * BACKLOG_MB * MB), page).then(() => "answered"),
    ]);
    expect(closed).toMatchObject({
      code: 1008,
      reason: expect.stringMatching(new RegExp(`${BACKLOG_MB} MB`)),
    });
    await session.settled();
    const again = await cdpClient(session.cdpUrl);
    const reply = await again.call(
      "Runtime.evaluate",
      { expression: "6 * 7" },
      await again.attachPage(),
    );
    expect(reply.result.result.value).toBe(42);
    again.ws.close();
    const still = await teamClient(tight).browser.node(
      session.id,
      "await page.evaluate(() => 1 + 1)",
    );
    expect(still).toBe("2");
    await session.close();
  });

  it("a client whose unread bytes make no progress is cut off after CDP_STALL_SECONDS", async () => {
    const team = await makeTeam(server, "load-stall", 1_000);
    const { id, cdpUrl } = await newBrowser(team.key);
    const c = await cdpClient(cdpUrl);
    const page = await c.attachPage();
    c.ws.pause();
    // Under the unread limit (64 MB): only the stall deadline can end this one.
    c.send("Runtime.evaluate", bigReply(REPLY_CHARS), page);
    const count = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      return Number(/^fcis_cdp_connections (\d+)/m.exec(text)?.[1]);
    };
    expect(await waitFor(async () => (await count()) === 0, 30_000)).toBe(true);
    c.ws.resume();
    await c.closed;
    expect((await teamClient(server, team.key).browser.stop(id)).status).toBe(200);
  });

  it("code in the sandbox gets the same limits on 127.0.0.1:9222", async () => {
    const session = await tightSession();
    const node = (code: string) => teamClient(tight).browser.node(session.id, code);
    const quiet = session.clients();
    // Raw WebSockets from inside the sandbox: as many as it will take, then some that ask for
    // two large replies each and never read them.
    const opened = await node(
      `const WebSocket = require("playwright-core/lib/utilsBundle").ws;
      const connect = () => new Promise((resolve) => {
        const ws = new WebSocket("ws://127.0.0.1:9222/devtools/browser", { maxPayload: 1 << 29 });
        ws.on("open", () => resolve({ ws }));
        ws.on("unexpected-response", (_q, res) => {
          let body = "";
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve({ refused: { status: res.statusCode, retryAfter: res.headers["retry-after"], body } }));
        });
        ws.on("error", (e) => resolve({ error: String(e) }));
      });
      globalThis.held = [];
      let refused;
      for (let i = 0; i < 20 && !refused; i++) {
        const r = await connect();
        if (r.ws) held.push(r.ws); else refused = r.refused ?? r.error;
      }
      const call = (ws, id, method, params, sessionId) => new Promise((resolve) => {
        const onMessage = (d) => { const m = JSON.parse(String(d)); if (m.id === id) { ws.off("message", onMessage); resolve(m); } };
        ws.on("message", onMessage);
        ws.send(JSON.stringify({ id, method, params, sessionId }));
      });
      const count = held.length;
      for (const ws of held.splice(${ATTACKERS})) ws.close();
      for (const ws of held) {
        const { result } = await call(ws, 1, "Target.getTargets", {});
        const target = result.targetInfos.find((t) => t.type === "page");
        const { result: a } = await call(ws, 2, "Target.attachToTarget", { targetId: target.targetId, flatten: true });
        ws.pause();
        for (const id of [3, 4]) {
          ws.send(JSON.stringify({ id, method: "Runtime.evaluate", params: { expression: '"x".repeat(${REPLY_CHARS})', returnByValue: true }, sessionId: a.sessionId }));
        }
      }
      JSON.stringify({ count, attackers: held.length, refused })`,
    );
    const { count, attackers, refused } = JSON.parse(opened);
    // The runner's own connection counts too: the sandbox has PER_SESSION in all.
    expect(count).toBeLessThan(PER_SESSION);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    expect(JSON.parse(refused.body)).toMatchObject({
      success: false,
      code: "TOO_MANY_CONNECTIONS",
    });
    expect(attackers).toBe(ATTACKERS);

    await session.settled();
    const during = rssAfterGc();
    expect(await node("for (const ws of held) ws.terminate(); held.length")).toBe(
      String(ATTACKERS),
    );
    expect(await waitFor(() => session.clients() === quiet)).toBe(true);
    const pinned = during - rssAfterGc();
    expect(pinned).toBeLessThan((ATTACKERS * 2 * REPLY_CHARS) / 4);
    // The session's own code still runs.
    expect(await node("await page.evaluate(() => 1 + 1)")).toBe("2");
    await session.close();
  });
});

describe("connection caps", () => {
  it("a session takes CDP_MAX_CONNECTIONS cdpUrl connections; the next gets 429", async () => {
    const team = await makeTeam(server, "cap-session", 1_000);
    const { id, cdpUrl } = await newBrowser(team.key);
    const held = [];
    for (let i = 0; i < PER_SESSION; i++) held.push(await open(cdpUrl));
    const refused = await refusal(cdpUrl);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    expect(refused.body).toMatchObject({ success: false, code: "TOO_MANY_CONNECTIONS" });
    expect(refused.body.error).toMatch(new RegExp(`${PER_SESSION}`));
    // A place freed is a place taken again.
    held.shift()!.close();
    expect(
      await waitFor(() =>
        open(cdpUrl).then(
          (ws) => held.push(ws) > 0,
          () => false,
        ),
      ),
    ).toBe(true);
    for (const ws of held) ws.terminate();
    expect((await teamClient(server, team.key).browser.stop(id)).status).toBe(200);
  });

  it("a team's CDP connections over all its sessions are capped; another team is not affected", async () => {
    const a = await makeTeam(server, "cap-team-a", 1_000);
    const b = await makeTeam(server, "cap-team-b", 1_000);
    const [a1, a2, b1] = await Promise.all([
      newBrowser(a.key),
      newBrowser(a.key),
      newBrowser(b.key),
    ]);
    const held = [];
    for (let i = 0; i < PER_SESSION; i++) held.push(await open(a1.cdpUrl));
    for (let i = PER_SESSION; i < PER_TEAM; i++) held.push(await open(a2.cdpUrl));
    const refused = await refusal(a2.cdpUrl);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    expect(refused.body).toMatchObject({ success: false, code: "TOO_MANY_CONNECTIONS" });
    expect(refused.body.error).toMatch(/team/);
    held.push(await open(b1.cdpUrl));
    for (const ws of held) ws.terminate();
    for (const [key, s] of [
      [a.key, a1],
      [a.key, a2],
      [b.key, b1],
    ] as const) {
      expect((await teamClient(server, key).browser.stop(s.id)).status).toBe(200);
    }
  });

  it("a session's live view takes 20 viewers; the next gets 429 with a code and Retry-After", async () => {
    const created = await teamClient(tight).browser.create({ ttl: 600 });
    expect(created.status).toBe(200);
    const url = `${created.body.liveViewUrl.replace(/^http/, "ws")}/ws`;
    const held = [];
    for (let i = 0; i < 20; i++) held.push(await open(url));
    const refused = await refusal(url);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    expect(refused.body).toMatchObject({ success: false, code: "TOO_MANY_CONNECTIONS" });
    expect(refused.body.error).toMatch(/20 viewers/);
    for (const ws of held) ws.terminate();
    expect((await teamClient(tight).browser.stop(created.body.id)).status).toBe(200);
  });

  it("a team's live view viewers over all its sessions are capped; another team is not affected", async () => {
    const a = await makeTeam(server, "cap-view-a", 1_000);
    const b = await makeTeam(server, "cap-view-b", 1_000);
    const [a1, a2, b1] = await Promise.all([
      newBrowser(a.key),
      newBrowser(a.key),
      newBrowser(b.key),
    ]);
    const wsUrl = (liveViewUrl: string) => `${liveViewUrl.replace(/^http/, "ws")}/ws`;
    const held = [await open(wsUrl(a1.liveViewUrl))];
    while (held.length < VIEWERS_PER_TEAM) held.push(await open(wsUrl(a2.liveViewUrl)));
    const refused = await refusal(wsUrl(a1.liveViewUrl));
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    expect(refused.body).toMatchObject({ success: false, code: "TOO_MANY_CONNECTIONS" });
    expect(refused.body.error).toMatch(/team/);
    held.push(await open(wsUrl(b1.liveViewUrl)));
    for (const ws of held) ws.terminate();
    for (const [key, s] of [
      [a.key, a1],
      [a.key, a2],
      [b.key, b1],
    ] as const) {
      expect((await teamClient(server, key).browser.stop(s.id)).status).toBe(200);
    }
  });
});

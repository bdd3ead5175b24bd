import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { PROOF_HEADER } from "../src/cluster/proof.js";
import { call, startFakeModel, type FakeModel } from "./helpers/fake-model.js";
import { BINARY_DOWNLOAD, startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { createTestDatabase, dropTestDatabases } from "./helpers/postgres.js";
import { freePort } from "./helpers/ports.js";
import { closeAll, startTestServer, waitFor, type TestServer } from "./helpers/server.js";
import { makeTeam, teamClient } from "./helpers/team-client.js";

/**
 * Three nodes on one Postgres, each reached directly (as a round-robin load balancer would send
 * requests anywhere): whichever node a request lands on, the node holding the session answers.
 * NODE_LOST_SECONDS is an hour: no node is declared lost while the file runs.
 */
const SECRET = "a-cluster-secret-of-at-least-32-characters";

let databaseUrl: string;
let site: FixtureSite;
let model: FakeModel;
let nodes: TestServer[];
let team: { id: string; key: string };

async function startNode(nodeId: string, env: Record<string, string> = {}): Promise<TestServer> {
  const port = await freePort();
  return startTestServer({
    NODE_ID: nodeId,
    PORT: String(port),
    NODE_URL: `http://127.0.0.1:${port}`,
    CLUSTER_SECRET: SECRET,
    DATABASE_URL: databaseUrl,
    NODE_LOST_SECONDS: "3600",
    USE_DB_AUTHENTICATION: "true",
    ALLOW_PRIVATE_NETWORK: "true",
    OPENAI_BASE_URL: model.baseUrl,
    MODEL_NAME: "fake-model",
    ...env,
  });
}

/** Each node learns the others' addresses (what a heartbeat does). */
async function heartbeat(): Promise<void> {
  for (const n of nodes) await n.services.membership!.tick();
}

beforeAll(async () => {
  [databaseUrl, site, model] = await Promise.all([
    createTestDatabase(),
    startFixtureSite(),
    startFakeModel(),
  ]);
  nodes = await Promise.all([startNode("node-1"), startNode("node-2"), startNode("node-3")]);
  await heartbeat();
  team = await makeTeam(nodes[0]!, "acme", 10_000);
});
afterAll(async () => {
  await closeAll(...(nodes ?? []), site, model);
  await dropTestDatabases();
});

const client = (i: number) => teamClient(nodes[i]!, team.key);
/** A GET as the team, through `node`: status and body (parsed when it is JSON). */
const get = async (node: TestServer, path: string) => {
  const res = await fetch(`${node.url}${path}`, {
    headers: { authorization: `Bearer ${team.key}` },
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body };
};
const liveHere = (i: number) => nodes[i]!.services.index.all().map((s) => s.id);

describe("a scrape's session, reached through every node", () => {
  let scrapeId: string;
  let sessionId: string;

  test("made where its first interact lands, then answered through the others", async () => {
    scrapeId = await client(0).scrapeId(`${site.url}/`);
    const first = await client(1).interact(scrapeId, { code: "globalThis.mark = 41; 1" });
    expect(first.status).toBe(200);
    sessionId = first.body.sessionId;
    expect(liveHere(1)).toEqual([sessionId]);

    for (const i of [0, 2]) {
      const res = await client(i).interact(scrapeId, { code: "++globalThis.mark" });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ success: true, sessionId });
    }
    expect(await client(2).interact(scrapeId, { code: "globalThis.mark" })).toMatchObject({
      body: { result: "43" },
    });
    expect(liveHere(0)).toEqual([]);
    expect(liveHere(2)).toEqual([]);
  });

  test("python, bash and a prompt, through a node that does not hold it", async () => {
    const py = await client(0).interact(scrapeId, {
      language: "python",
      code: "print(await page.title())",
    });
    expect(py.status).toBe(200);
    expect(py.body.stdout).toContain("Fixture");
    const bash = await client(2).interact(scrapeId, {
      language: "bash",
      code: "agent-browser get url",
    });
    expect(bash.status).toBe(200);
    expect(bash.body.stdout).toContain(site.url);
    model.script([call("done", { answer: "answered by the owner" })]);
    const prompt = await client(0).interact(scrapeId, { prompt: "Say who answers" });
    expect(prompt.status).toBe(200);
    expect(prompt.body.output).toBe("answered by the owner");
    expect(prompt.body.sessionId).toBe(sessionId);
  });

  test("its cdpUrl and live view work through any node", async () => {
    const viaThird = await client(2).interact(scrapeId, { code: "1" });
    const cdpUrl: string = viaThird.body.cdpUrl;
    expect(new URL(cdpUrl).port).toBe(new URL(nodes[2]!.url).port);
    const browser = await chromium.connectOverCDP(cdpUrl);
    try {
      const page = browser.contexts()[0]!.pages().at(-1)!;
      expect(page.url()).toBe(`${site.url}/`);
    } finally {
      await browser.close();
    }

    const viewUrl: string = viaThird.body.liveViewUrl;
    const page = await fetch(viewUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<canvas");
    const ws = new WebSocket(viewUrl.replace(/^http/, "ws") + "/ws");
    const first = await new Promise<string>((resolve, reject) => {
      ws.once("message", (data) => resolve(String(data)));
      ws.once("error", reject);
    });
    ws.close();
    expect(JSON.parse(first)).toMatchObject({ type: "status", state: "connected" });
  });

  test("the listing on any node carries its URLs; DELETE through another ends it", async () => {
    const listed = await fetch(`${nodes[0]!.url}/v2/sessions`, {
      headers: { authorization: `Bearer ${team.key}` },
    }).then((r) => r.json());
    const mine = listed.sessions.find((s: { id: string }) => s.id === sessionId);
    expect(mine.cdpUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/cdp\//);
    expect(mine.liveViewUrl).toContain("/live/");
    // What it is doing, from the node that holds it: every call made through any node.
    expect(mine).toMatchObject({
      languages: ["node", "python", "bash", "prompt"],
      calls: 8,
      currentUrl: `${site.url}/`,
    });

    const stopped = await client(2).stop(scrapeId);
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ success: true });
    for (const i of [0, 1, 2]) {
      const after = await client(i).interact(scrapeId, { code: "1" });
      expect(after.status).toBe(410);
    }
    // Ended, what it did is in the shared record: every node lists it alike.
    for (const i of [0, 2]) {
      const after = await fetch(`${nodes[i]!.url}/v2/sessions`, {
        headers: { authorization: `Bearer ${team.key}` },
      }).then((r) => r.json());
      expect(after.sessions.find((s: { id: string }) => s.id === sessionId)).toMatchObject({
        status: "destroyed",
        endReason: "stopped",
        languages: ["node", "python", "bash", "prompt"],
        calls: 8,
        lastUrl: `${site.url}/`,
        durationMs: stopped.body.sessionDurationMs,
        creditsBilled: stopped.body.creditsBilled,
      });
    }
  });
});

describe("standalone browser sessions", () => {
  test("created through one node, used, listed and stopped through the others", async () => {
    const made = await client(0).browser.create();
    expect(made.status).toBe(200);
    const id: string = made.body.id;
    expect(await client(1).browser.node(id, "1 + 1")).toBe("2");
    expect(await client(2).browser.node(id, "2 + 2")).toBe("4");
    const list = await client(1).browser.list();
    const listed = list.body.sessions.find((s: { id: string }) => s.id === id);
    expect(listed.cdpUrl).not.toBe("");
    expect((await client(2).browser.stop(id)).status).toBe(200);
    expect((await client(1).browser.execute(id, { code: "1" })).status).toBe(410);
  });

  test("a recording is replayed, and its video served, by every node", async () => {
    const made = await client(0).browser.create({ recordSession: true });
    expect(made.status).toBe(200);
    const id: string = made.body.id;
    const owner = nodes.findIndex((_, i) => liveHere(i).includes(id));
    const red = `${site.url}/red`;
    await client(1).browser.node(id, `await page.goto(${JSON.stringify(red)}); "ok"`);
    const recording = () => nodes[owner]!.services.recordings.onShow(id);
    expect(await waitFor(() => recording()?.url === red && recording()!.frames >= 2)).toBe(true);
    expect((await client(2).browser.stop(id)).status).toBe(200);
    // The node that held it answers once its last page is stored; then any node does.
    const first = await get(nodes[owner]!, `/v2/browser/${id}/replay`);
    expect(first.body.pages.map((p: { pageUrl: string }) => p.pageUrl)).toContain(red);
    for (const node of nodes) {
      const replay = await get(node, `/v2/browser/${id}/replay`);
      expect(replay.body).toEqual(first.body);
      const page = replay.body.pages.find((p: { pageUrl: string }) => p.pageUrl === red);
      const playlist = await get(node, page.url);
      expect(playlist.status).toBe(200);
      // Its segments' URLs are on the node asked, which reads them from the database.
      const segment = String(playlist.body)
        .split("\n")
        .find((l) => l.startsWith("http"))!;
      expect(segment.startsWith(node.url)).toBe(true);
      const res = await fetch(segment);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("video/mp2t");
    }
  });

  test("a full node sends a new session to the node with the most room", async () => {
    const full = await startNode("node-small", { MAX_BROWSER_SESSIONS: "1" });
    try {
      nodes.push(full);
      await heartbeat();
      const small = teamClient(full, team.key);
      const one = await small.browser.create();
      const two = await small.browser.create();
      expect([one.status, two.status]).toEqual([200, 200]);
      expect(liveHere(3)).toEqual([one.body.id]);
      // The second is held elsewhere, and still answers through the full node.
      expect(await small.browser.node(two.body.id, "'there'")).toBe("there");
      await small.browser.stop(one.body.id);
      await small.browser.stop(two.body.id);
    } finally {
      nodes.pop();
      await full.close();
    }
  });
});

describe("the proof between nodes", () => {
  test("a forged or replayed proof is refused; the nodes' own route does not exist for tenants", async () => {
    const url = `${nodes[0]!.url}/v2/browser`;
    const auth = { authorization: `Bearer ${team.key}` };
    for (const proof of [
      "v1.node-2.1.00",
      "garbage",
      `v1.node-2.${Date.now()}.${"0".repeat(64)}`,
    ]) {
      const res = await fetch(url, { headers: { ...auth, [PROOF_HEADER]: proof } });
      expect(res.status).toBe(401);
    }
    // However its path is spelled: the check is on the route the router matched.
    for (const p of [
      "/v2/internal/sessions",
      "/v2/%69nternal/sessions",
      "/V2/internal/sessions/",
    ]) {
      const internal = await fetch(`${nodes[0]!.url}${p}?ids=x`, { headers: auth });
      expect(internal.status, p).toBe(404);
    }
  });

  test("a tenant's code in a session cannot pass as a node: no secret to read, and a made-up proof is refused", async () => {
    const made = await client(0).browser.create();
    const id: string = made.body.id;
    try {
      // Private addresses are open in this file: the session's browser can reach the other
      // nodes (its sandbox itself has no network but the browser's proxy).
      const internal = `${nodes[1]!.url}/v2/internal/sessions?ids=${id}`;
      const seen = await client(0).browser.node(
        id,
        `const env = JSON.stringify(process.env);
         const direct = await fetch(${JSON.stringify(internal)}).then((r) => r.status, () => "unreachable");
         const tries = [];
         for (const proof of [undefined, "v1.node-2." + Date.now() + "." + "ab".repeat(32)]) {
           await page.setExtraHTTPHeaders(proof ? { "x-node-proof": proof } : {});
           tries.push((await page.goto(${JSON.stringify(internal)})).status());
         }
         JSON.stringify({ hasSecret: env.includes(${JSON.stringify(SECRET)}), direct, tries })`,
      );
      expect(JSON.parse(seen)).toEqual({
        hasSecret: false,
        direct: "unreachable",
        tries: [404, 401],
      });
    } finally {
      await client(0).browser.stop(id);
    }
  });
});

describe("team limits across nodes", () => {
  test("20 creations at once for a team allowed 3, spread over three nodes, give exactly 3", async () => {
    const limited = await makeTeam(nodes[0]!, "limited", 10_000);
    await nodes[0]!.services.teams.setMaxSessions(limited.id, 3);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => teamClient(nodes[i % 3]!, limited.key).browser.create()),
    );
    const made = results.filter((r) => r.status === 200);
    expect(made).toHaveLength(3);
    expect(results.filter((r) => r.status === 429)).toHaveLength(17);
    for (const r of made) await teamClient(nodes[0]!, limited.key).browser.stop(r.body.id);
  });
});

describe("a session's downloads across nodes", () => {
  test("listed through any node while the session lives and after it ended, served by any", async () => {
    const made = await teamClient(nodes[1]!, team.key).browser.create();
    expect(made.status).toBe(200);
    const id: string = made.body.id;
    const result = await client(1).browser.node(
      id,
      `await page.goto(${JSON.stringify(`${site.url}/downloads`)});
      const [d] = await Promise.all([page.waitForEvent("download"), page.click("#bin")]);
      String(await d.failure())`,
    );
    expect(result).toBe("null");
    const list = async (i: number) => {
      const res = await fetch(`${nodes[i]!.url}/v2/browser/${id}/files`, {
        headers: { authorization: `Bearer ${team.key}` },
      });
      const body = (await res.json()) as any;
      // Each node answers with URLs on itself: the same paths.
      return body.files.map((f: any) => ({ ...f, url: new URL(f.url).pathname }));
    };
    let files: any[] = [];
    while (files.length === 0) files = await list(0);
    expect(files).toEqual([expect.objectContaining({ name: "data.bin", state: "completed" })]);
    expect(await list(2)).toEqual(files);
    // Any node has the bytes.
    const onThird = new URL(files[0].url, nodes[2]!.url);
    const bytes = Buffer.from(await (await fetch(onThird)).arrayBuffer());
    expect(bytes.equals(BINARY_DOWNLOAD)).toBe(true);

    expect((await client(0).browser.stop(id)).status).toBe(200);
    expect(await list(2)).toEqual(files);
  });
});

import { spawn } from "node:child_process";
import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";
import { afterAll, expect, test } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { framesDrawn, launchViewerBrowser, openViewer } from "./helpers/liveview.js";
import { freePort } from "./helpers/ports.js";

/** Every process whose parent chain leads to `root`, from /proc. */
function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name is in parentheses and may hold spaces: the fields after it are fixed.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {}
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parentOf) {
      if (parent === pid) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return found;
}

/** The pid of the cluster's node named `name` (its server process, not what it started). */
function nodePid(root: number, name: string): number | undefined {
  return descendants(root).find((pid) => {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const env = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      return cmd.includes("src/main.ts") && env.includes(`NODE_ID=${name}`);
    } catch {
      return false;
    }
  });
}

/** True while `pid` runs (a zombie has ended: it only waits for its parent to reap it). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

let cluster: ReturnType<typeof spawn> | undefined;
/** The processes the cluster started, once it is up: nothing may outlive the test. */
let started: number[] = [];
let out = "";
let site: FixtureSite;
afterAll(async () => {
  await site?.close();
  // Only when the test failed half way: Ctrl-C as a terminal sends it, then nothing left over.
  if (!cluster || out.includes("stopped; temporary folders removed")) return;
  try {
    process.kill(-cluster.pid!, "SIGINT");
  } catch {}
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !out.includes("stopped;")) {
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const pid of started.filter(running)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
});

test("the cluster script serves through HAProxy round robin over three nodes, outlives a killed node and drains another, and Ctrl-C removes it all", async () => {
  const port = await freePort();
  site = await startFixtureSite();
  // `npm run cluster` is setup, then this script. Setup has run for the tests already, and runs
  // nowhere in the middle of them: it may install into the tree the other test files use.
  // Its own process group, as a terminal runs it: Ctrl-C signals the whole group.
  cluster = spawn(process.execPath, ["scripts/cluster.mjs"], {
    env: {
      ...process.env,
      CLUSTER_PORT: String(port),
      SETUP_QUIET: "1",
      LOG_LEVEL: "warn",
      // A killed node is found out in 3 s; a drained one waits a minute for its sessions.
      NODE_LOST_SECONDS: "3",
      DRAIN_SECONDS: "60",
    },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  cluster.stdout!.on("data", (d) => (out = (out + d).slice(-20_000)));
  cluster.stderr!.on("data", (d) => (out = (out + d).slice(-20_000)));
  const exited = new Promise((r) => cluster!.once("exit", r));

  const url = `http://127.0.0.1:${port}`;
  await expect.poll(() => out, { timeout: 90_000, interval: 200 }).toContain(`ready: ${url}`);
  const tmp = /temporary folders .* in (\S+)/.exec(out)?.[1];
  expect(tmp, out).toBeDefined();
  expect(fs.existsSync(tmp!)).toBe(true);

  // Round robin, no stickiness: successive requests reach every node.
  const served = new Set<string>();
  await expect
    .poll(
      async () => {
        const res = await fetch(`${url}/health/live`);
        expect(res.status).toBe(200);
        served.add(res.headers.get("x-served-by") ?? "");
        return [...served].sort();
      },
      { timeout: 30_000, interval: 50 },
    )
    .toEqual(["node-1", "node-2", "node-3"]);

  // Separate processes behind a real load balancer: the calls of one session land on the nodes
  // by round robin, and are answered by the node that holds it.
  const post = async (p: string, body: unknown) => {
    const res = await fetch(url + p, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, node: res.headers.get("x-served-by"), body: await res.json() };
  };
  const scraped = await post("/v2/scrape", { url: `${site.url}/` });
  expect(scraped.status).toBe(200);
  const scrapeId: string = scraped.body.data.metadata.scrapeId;
  const calls = [];
  for (let i = 0; i < 3; i++) {
    calls.push(await post(`/v2/scrape/${scrapeId}/interact`, { code: "await page.title()" }));
  }
  // One node holds the session: the calls that reached another were forwarded to it.
  expect(new Set(calls.map((c) => c.node)).size).toBeGreaterThan(1);
  for (const c of calls) {
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ success: true, result: "Fixture Home" });
  }
  expect(new Set(calls.map((c) => c.body.sessionId)).size).toBe(1);
  const browser = await post("/v2/browser", {});
  expect(browser.status).toBe(200);
  for (let i = 0; i < 3; i++) {
    const run = await post(`/v2/browser/${browser.body.id}/execute`, {
      code: `${i} + 1`,
      language: "node",
    });
    expect(run.body).toMatchObject({ success: true, result: String(i + 1) });
  }
  // Its cdpUrl is on the load balancer (PUBLIC_URL): each connection lands on any node and is
  // piped to the one holding the session.
  expect(new URL(browser.body.cdpUrl).port).toBe(String(port));
  for (let i = 0; i < 3; i++) {
    const cdp = await chromium.connectOverCDP(browser.body.cdpUrl);
    try {
      const page = cdp.contexts()[0]!.pages()[0]!;
      expect(await page.evaluate((n) => n * 2, i)).toBe(i * 2);
    } finally {
      await cdp.close();
    }
  }
  // The live view, in a real browser: its page and its WebSocket land on any node and reach
  // the one holding the session.
  const viewer = await launchViewerBrowser();
  try {
    const page = await openViewer(viewer, browser.body.liveViewUrl);
    expect(await framesDrawn(page)).toBeGreaterThan(0);
  } finally {
    await viewer.close();
  }
  const scrapeSession = await fetch(`${url}/v2/scrape/${scrapeId}/interact`, { method: "DELETE" });
  expect(scrapeSession.status).toBe(200);

  // A node holding a session is killed. A new session is made where its create lands (every
  // node has room), so make sessions until one is on a node other than `browser`'s.
  let doomed = await post("/v2/browser", {});
  while (doomed.node === browser.node) doomed = await post("/v2/browser", {});
  expect(doomed.status).toBe(200);
  const execute = (id: string, code: string) =>
    post(`/v2/browser/${id}/execute`, { code, language: "node" });
  expect((await execute(doomed.body.id, "'alive'")).body.result).toBe("alive");
  const pgDir = fs.readdirSync(tmp!).find((d) => d.startsWith("pg-"));
  const postmaster = Number(
    fs.readFileSync(path.join(tmp!, pgDir!, "data", "postmaster.pid"), "utf8").split("\n")[0],
  );
  started = [...descendants(cluster.pid!), postmaster];
  expect(started.filter(running).length).toBeGreaterThanOrEqual(5); // script, 3 nodes, HAProxy
  const killed = nodePid(cluster.pid!, doomed.node!);
  expect(killed, `${doomed.node}'s process`).toBeDefined();
  process.kill(killed!, "SIGKILL");
  // Its sessions are lost: every node answers 410 node_lost once it is found out.
  await expect
    .poll(
      async () => {
        const res = await execute(doomed.body.id, "1");
        return [res.status, res.body.details?.reason];
      },
      { timeout: 60_000, interval: 250 },
    )
    .toEqual([410, "node_lost"]);
  await expect.poll(() => out).toContain(`${doomed.node} exited (SIGKILL)`);
  // The other node's session is untouched, and new sessions are made on the nodes left.
  expect((await execute(browser.body.id, "'still here'")).body.result).toBe("still here");
  const fresh = await post("/v2/browser", {});
  expect(fresh.status).toBe(200);
  expect((await execute(fresh.body.id, "6 * 7")).body.result).toBe("42");
  expect((await fetch(`${url}/v2/browser/${fresh.body.id}`, { method: "DELETE" })).status).toBe(
    200,
  );

  // SIGTERM drains `browser`'s node: the load balancer stops sending it requests, and its live
  // session goes on answering (through the node left) until it is stopped; then the node exits.
  const drained = nodePid(cluster.pid!, browser.node!);
  expect(drained, `${browser.node}'s process`).toBeDefined();
  process.kill(drained!, "SIGTERM");
  await expect
    .poll(
      async () => {
        const servedBy = [];
        for (let i = 0; i < 6; i++) {
          servedBy.push((await fetch(`${url}/health/live`)).headers.get("x-served-by"));
        }
        return servedBy.includes(browser.node);
      },
      { timeout: 60_000, interval: 250 },
    )
    .toBe(false);
  for (let i = 0; i < 3; i++) {
    const run = await execute(browser.body.id, `${i} * 10`);
    expect(run.node).not.toBe(browser.node);
    expect(run.body).toMatchObject({ success: true, result: String(i * 10) });
  }
  expect(running(drained!)).toBe(true);
  expect((await fetch(`${url}/v2/browser/${browser.body.id}`, { method: "DELETE" })).status).toBe(
    200,
  );
  await expect.poll(() => running(drained!), { timeout: 60_000, interval: 250 }).toBe(false);

  process.kill(-cluster.pid!, "SIGINT");
  // The script goes on until everything is stopped.
  await exited;
  await expect
    .poll(() => out, { timeout: 60_000, interval: 200 })
    .toContain("stopped; temporary folders removed");
  await expect.poll(() => started.filter(running), { timeout: 10_000 }).toEqual([]);
  expect(fs.existsSync(tmp!)).toBe(false);
  await expect(fetch(`${url}/health/live`)).rejects.toThrow();
}, 300_000);

import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { artifactsRoot } from "../src/chromium/chromium-process.js";
import { canSwitchUid } from "../src/isolation/uid-pool.js";
import { sandboxRoot } from "../src/sandbox/root.js";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { interact, scrapeId, serverPids } from "./helpers/interact.js";
import { startTestServer, tempDataDir } from "./helpers/server.js";

let site: FixtureSite;
beforeAll(async () => {
  site = await startFixtureSite();
});
afterAll(() => site?.close());

/** Servers this file started: killed after each test whatever its outcome, never left running. */
const spawned = new Set<ChildProcess>();
afterEach(() => {
  for (const child of spawned) if (child.exitCode === null) child.kill("SIGKILL");
  spawned.clear();
});

/** Runs the real entry point in its own process, as `npm start` would. */
async function spawnServer(dataDir: string, port: number) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      BROWSER_POOL_SIZE: "1",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  spawned.add(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { child, url };
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error("server did not start");
}

/** Per-session folders on disk: browser profiles under DATA_DIR, sandbox scratch folders. */
function leftovers(dataDir: string): string[] {
  const list = (dir: string) => {
    try {
      return fs.readdirSync(dir).map((f) => path.join(dir, f));
    } catch {
      return [];
    }
  };
  return [
    ...list(path.join(dataDir, "browsers")),
    // A running server's own: its runtime copy and its CDP socket folder.
    ...list(sandboxRoot(dataDir)).filter((f) => !["runtime", "cdp"].includes(path.basename(f))),
  ];
}

/** uid lease files (machine-wide, in the temp folder) held by process `pid`. */
function leasesOf(pid: number): string[] {
  const dir = path.join(os.tmpdir(), "fc-sandbox-uids");
  const held = (f: string) => {
    try {
      return fs.readFileSync(path.join(dir, f), "utf8") === String(pid);
    } catch {
      return false;
    }
  };
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter(held) : [];
}

/** Playwright's artifacts folders of the server on this DATA_DIR's browsers. */
function artifacts(dataDir: string): string[] {
  const root = artifactsRoot(dataDir);
  return fs.existsSync(root) ? fs.readdirSync(root) : [];
}

const port = () => 20_000 + Math.floor(Math.random() * 20_000);

/** How long killed processes may take to be gone (the kernel tears them down, not at once). */
const GONE = { timeout: 5_000 };

test("SIGTERM stops every browser and sandbox process", async () => {
  const dataDir = tempDataDir();
  const { child, url } = await spawnServer(dataDir, port());
  const id = await scrapeId(url, { url: `${site.url}/` });
  expect((await interact(url, id, { code: "1" })).status).toBe(200);
  expect((await serverPids(dataDir)).length).toBeGreaterThan(0);
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
  await expect.poll(() => serverPids(dataDir), GONE).toEqual([]);
  expect(leftovers(dataDir)).toEqual([]);
});

test("after SIGKILL nothing is left once the next start has run", async () => {
  const dataDir = tempDataDir();
  const { child, url } = await spawnServer(dataDir, port());
  const id = await scrapeId(url, { url: `${site.url}/` });
  expect((await interact(url, id, { code: "1" })).status).toBe(200);
  // What the running server holds on disk outside DATA_DIR: its workers' and browsers' uid
  // leases, and Playwright's artifacts folders (downloads) of its browsers.
  const leases = leasesOf(child.pid!);
  if (canSwitchUid()) expect(leases.length).toBeGreaterThan(0);
  expect(artifacts(dataDir).length).toBeGreaterThan(0);
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
  // Under bubblewrap our processes die with the server; whatever might remain (no bubblewrap,
  // a process that escaped) is what the next start must reap.

  const next = await startTestServer({ DATA_DIR: dataDir });
  try {
    await expect.poll(() => serverPids(dataDir), GONE).toEqual([]);
    // Profiles and scratch folders of the killed server's sessions are gone too.
    expect(leftovers(dataDir)).toEqual([]);
    expect(leasesOf(child.pid!)).toEqual([]);
    expect(artifacts(dataDir)).toEqual([]);
    expect((await interact(next.url, id, { code: "1" })).status).toBe(410);
  } finally {
    await next.close();
  }
});

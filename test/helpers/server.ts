import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config/config.js";
import { startServer, type RunningServer, type ServerOptions } from "../../src/server.js";
import { startFixtureSite, type FixtureSite } from "./fixture-site.js";

export interface TestServer extends RunningServer {
  dataDir: string;
}

/**
 * Data directories this helper made. They go when the test process exits, not with their
 * server: restart tests start a second server on the first one's directory.
 */
const madeDirs: string[] = [];
process.once("exit", () => {
  for (const dir of madeDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {} // a browser still shutting down may write into it; it is only a temp folder
  }
});

/** A fresh temporary DATA_DIR (under the test run's own folder when vitest made one). */
export function tempDataDir(): string {
  const dir = fs.mkdtempSync(path.join(process.env.FC_TEST_TMP ?? os.tmpdir(), "fc-test-"));
  madeDirs.push(dir);
  return dir;
}

/**
 * Starts the real server on a random loopback port with its own temporary DATA_DIR.
 * Pass DATA_DIR to reuse one (restart tests). Every JSON answer it gives is held to its route's
 * declared contract (CHECK_RESPONSES): one off it is a 500 naming what differs.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  opts: ServerOptions = {},
): Promise<TestServer> {
  const dataDir = env.DATA_DIR ?? tempDataDir();
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "silent",
    BROWSER_POOL_SIZE: "0",
    CHECK_RESPONSES: "true",
    ...env,
    DATA_DIR: dataDir,
  });
  const server = await startServer(config, opts);
  return { ...server, dataDir };
}

/** POSTs JSON and returns status and parsed body. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed };
}

/** Starts the real server and the local fixture site together. */
export function startServerAndSite(
  env: Record<string, string> = {},
): Promise<[TestServer, FixtureSite]> {
  return Promise.all([startTestServer(env), startFixtureSite()]);
}

/** Closes what a test file started, in order, skipping what never started. */
export async function closeAll(
  ...things: ({ close(): Promise<unknown> } | undefined)[]
): Promise<void> {
  for (const thing of things) await thing?.close();
}

/** Polls `check` until it holds or `ms` pass; true when it held. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  ms = 15_000,
): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

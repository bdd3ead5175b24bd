import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Browser } from "playwright-core";
import type { ChromiumProcess } from "../src/chromium/chromium-process.js";
import { testLauncher } from "./helpers/browsers.js";
import { spawnWorker, type WorkerOptions } from "../src/sandbox/worker.js";
import { nodeRuntime } from "../src/sandbox/runtimes/node.js";
import { Runtimes } from "../src/sandbox/runtimes/staging.js";
import type { SandboxWorker } from "../src/sandbox/types.js";

export const CHROMIUM = "/usr/lib/chromium/chromium";

/**
 * A short temp folder others may traverse: the sandbox uid must reach the socket inside, and
 * Chromium's own socket path under it must stay within 108 bytes.
 */
export function sandboxTempDir(): string {
  const dir = fs.mkdtempSync("/tmp/sbx-");
  fs.chmodSync(dir, 0o711);
  return dir;
}

/** One session's worth: a Chromium, its CDP bridge and a worker attached to it. */
export interface SandboxSession {
  chrome: ChromiumProcess;
  /** The server's own connection to that Chromium: lets a test see the page the worker drives. */
  browser: Browser;
  bridge: { close(): Promise<void> };
  /** The worker's CDP socket on the host. */
  cdpSocketPath: string;
  worker: SandboxWorker;
  scratchDir: string;
  close(): Promise<void>;
}

export async function startSandboxSession(
  root: string,
  name: string,
  opts: Partial<WorkerOptions> = {},
): Promise<SandboxSession> {
  const { proc: chrome, browser } = await testLauncher().launch();
  const scratchDir = path.join(root, name);
  fs.mkdirSync(scratchDir, { mode: 0o711 });
  const cdpSocketPath = path.join(scratchDir, "cdp.sock");
  const bridge = await chrome.cdp.listen(cdpSocketPath, { maxMessageBytes: 32 * 1024 * 1024 });
  const worker = await spawnWorker({
    runtime: Runtimes.inPlace([nodeRuntime]).get("node")!,
    scratchDir,
    sockets: { cdp: cdpSocketPath },
    mode: "bwrap",
    ...opts,
  });
  return {
    chrome,
    browser,
    bridge,
    cdpSocketPath,
    worker,
    scratchDir,
    close: async () => {
      await worker.kill();
      await bridge.close();
      await chrome.kill();
    },
  };
}

/** A tiny local site for the page-level cases. */
export async function startPageServer(
  pages: Record<string, string>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const body = pages[req.url ?? "/"];
    res.writeHead(body === undefined ? 404 : 200, { "content-type": "text/html; charset=utf-8" });
    res.end(body ?? "<title>Not found</title>");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

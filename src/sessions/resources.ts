import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { profilesRoot } from "../browser/chromium-process.js";
import type { BrowserLauncher } from "../browser/launcher.js";
import { projectRuntime, sandboxRoot, spawnNodeWorker, stageRuntime } from "../sandbox/index.js";
import type { SessionResources } from "./live-session.js";

export interface ResourceOptions {
  dataDir: string;
  launcher: BrowserLauncher;
  sandboxMode: "bwrap" | "none";
  /** Largest CDP message the code worker may send its browser. */
  cdpMaxMessageBytes: number;
  log?: (msg: string) => void;
}

/** Where each session's sandbox scratch folder lives; the orphan reaper keys on it too. */
export function sandboxesRoot(dataDir: string): string {
  return sandboxRoot(dataDir);
}

/**
 * Removes every per-session folder on disk: sandbox scratch folders, CDP sockets, the runtime
 * copy and unjailed browsers' profiles. Call when no browser or worker of ours runs: at start,
 * after reaping a killed predecessor's processes, and at shutdown, once everything is stopped.
 */
export function removeRunFolders(dataDir: string): void {
  for (const dir of [sandboxesRoot(dataDir), profilesRoot(dataDir)]) {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Prepares the sandbox folder and its runtime copy; call once at start, before any worker. */
export function prepareSandboxes(dataDir: string): void {
  stageRuntime(sandboxesRoot(dataDir), projectRuntime());
}

/**
 * Starts what a session needs before it is bound to a scrape: its own Chromium, the server's
 * connection to it, and a sandboxed code worker already connected to that browser.
 */
export async function createSessionResources(opts: ResourceOptions): Promise<SessionResources> {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  let scratch: string | undefined;
  // Everything is killed at once rather than shut down politely: a session's state is thrown
  // away anyway, and a graceful Chromium exit takes about a second.
  const release = async () => {
    await Promise.all(
      cleanups
        .splice(0)
        .map(async (fn) => fn())
        .map((p) => p.catch(() => {})),
    );
    // The scratch folder goes last, once the worker using it is gone.
    if (scratch) await fs.promises.rm(scratch, { recursive: true, force: true }).catch(() => {});
    scratch = undefined;
  };
  try {
    const { proc, browser } = await opts.launcher.launch();
    cleanups.push(() => proc.kill());
    const context = browser.contexts()[0];
    if (!context) throw new Error("Chromium started without a default context");
    // A tab of our own rather than the one Chromium opens at start: that one's first navigation
    // can still be in flight, and a restore racing it would return before its page is loaded.
    const page = await context.newPage();
    for (const other of context.pages()) if (other !== page) await other.close();
    const cdp = await context.newCDPSession(page);

    const scratchDir = path.join(sandboxesRoot(opts.dataDir), randomUUID());
    fs.mkdirSync(scratchDir, { recursive: true });
    scratch = scratchDir;
    const socketPath = path.join(scratchDir, "cdp.sock");
    // The worker's only way out of its sandbox: a socket to this session's browser alone.
    const bridge = await proc.cdp.listen(socketPath, { maxMessageBytes: opts.cdpMaxMessageBytes });
    cleanups.push(() => bridge.close());
    const worker = await spawnNodeWorker({
      scratchDir,
      cdpSocketPath: socketPath,
      mode: opts.sandboxMode,
      log: opts.log,
    });
    cleanups.push(() => worker.kill());
    // No warm() here: a worker attached before the restore can miss the restore's navigation
    // (Playwright then reports "Loading <url>" for the page). The runner loads Playwright when
    // it starts; it connects right after the restore (SessionService), which costs ~50 ms.
    return { proc, browser, context, page, cdp, worker, scratchDir, release };
  } catch (err) {
    await release();
    throw err;
  }
}

/**
 * Session resources started ahead of demand, so a first interact does not wait for a browser
 * launch. Entries whose browser died while waiting are thrown away.
 */
export class WarmPool {
  private readonly ready: SessionResources[] = [];
  private filling = 0;
  private readonly starting = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly create: () => Promise<SessionResources>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** A ready entry if one is waiting, else a freshly started one. Refills in the background. */
  async take(): Promise<SessionResources> {
    let entry: SessionResources | undefined;
    while ((entry = this.ready.shift())) {
      if (entry.browser.isConnected() && entry.worker.alive) break;
      void entry.release();
    }
    this.fill();
    return entry ?? this.create();
  }

  /** Starts entries until size are ready or starting. */
  fill(): void {
    while (!this.closed && this.ready.length + this.filling < this.size) {
      this.filling++;
      const p = this.create().then(
        (r) => {
          this.filling--;
          if (this.closed) void r.release();
          else this.ready.push(r);
        },
        (err) => {
          this.filling--;
          this.onError(err);
        },
      );
      this.starting.add(p);
      void p.finally(() => this.starting.delete(p));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.starting]);
    await Promise.all(this.ready.splice(0).map((r) => r.release()));
  }
}

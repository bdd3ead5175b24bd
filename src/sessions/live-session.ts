import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import type WebSocket from "ws";
import type { ChromiumProcess } from "../browser/chromium-process.js";
import type { ExecResult, SandboxWorker } from "../sandbox/types.js";

/** The processes and connections one session owns. All die with it. */
export interface SessionResources {
  proc: ChromiumProcess;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** The server's own CDP session on the first page: holds emulation overrides while attached. */
  cdp: CDPSession;
  worker: SandboxWorker;
  /** The worker's scratch folder on the host (its processes name it on their command line). */
  scratchDir: string;
  /** Frees everything above; safe to call twice. */
  release(): Promise<void>;
}

export type DestroyReason = "stopped" | "ttl" | "idle" | "browser_crashed" | "shutdown";

/**
 * A live browser session bound to one scrape. Code runs one call at a time, in order; the
 * session never comes back once destroyed.
 */
export class LiveSession {
  readonly createdAt = Date.now();
  lastUsedAt = Date.now();
  /** Calls running or queued; a busy session is never idle. */
  busy = 0;
  destroyedBy: DestroyReason | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private destroying: Promise<void> | undefined;
  private readonly onDestroyed: ((s: LiveSession) => void)[] = [];

  constructor(
    readonly id: string,
    readonly scrapeId: string,
    readonly teamId: string,
    readonly cdpToken: string,
    readonly resources: SessionResources,
  ) {
    const crashed = () => void this.destroy("browser_crashed");
    resources.browser.on("disconnected", crashed);
    void resources.proc.exited.then(crashed);
  }

  get alive(): boolean {
    return this.destroyedBy === undefined;
  }

  /** Serves a client's CDP WebSocket (cdpUrl) as one more connection to this session's browser. */
  attachCdpClient(ws: WebSocket): void {
    this.touch();
    ws.on("message", () => this.touch());
    this.resources.proc.cdp.attach(ws);
  }

  /** Runs code after any earlier call on this session has finished. */
  exec(code: string, timeoutMs: number): Promise<ExecResult> {
    this.busy++;
    const run = this.queue.then(async () => {
      this.touch();
      const result = await this.resources.worker.exec(code, timeoutMs);
      // The run is over, but a page script it started (an endless loop in page.evaluate) would
      // keep a renderer busy at full CPU and every later call on that page waiting.
      if (result.killed) this.resources.proc.scripts.stopAll();
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run.finally(() => {
      this.busy--;
      this.touch();
    });
  }

  /** Marks activity (a code run, CDP traffic, a live view input) for the idle timer. */
  touch(): void {
    this.lastUsedAt = Date.now();
  }

  whenDestroyed(cb: (s: LiveSession) => void): void {
    this.onDestroyed.push(cb);
  }

  /** Ends the session and frees every process it had. Idempotent; first reason wins. */
  destroy(reason: DestroyReason): Promise<void> {
    if (!this.destroying) {
      this.destroyedBy = reason;
      this.destroying = (async () => {
        for (const cb of this.onDestroyed) {
          try {
            cb(this);
          } catch {}
        }
        await this.resources.release();
      })();
    }
    return this.destroying;
  }
}

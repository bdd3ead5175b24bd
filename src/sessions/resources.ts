import fs from "node:fs";
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { artifactsRoot, profilesRoot, type ChromiumProcess } from "../chromium/chromium-process.js";
import { serveCdpPort } from "../cdp/port.js";
import { ConnectionCap, type ConnectionRefusal } from "../cdp/connection-cap.js";
import type { BrowserLauncher } from "../chromium/launcher.js";
import { sandboxRoot, SessionSandbox, type CodeAvailability } from "../sandbox/index.js";
import type { Logger } from "../log/logger.js";

/** The processes and connections one session owns. All die with it. */
export interface SessionResources {
  proc: ChromiumProcess;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** The server's own CDP session on the first page (the restore's storage script goes through it). */
  cdp: CDPSession;
  /** The session's sandbox: its CDP endpoint and one worker per language used. */
  sandbox: SessionSandbox;
  /** Frees everything above; safe to call twice. */
  release(): Promise<void>;
}

export interface ResourceOptions {
  dataDir: string;
  launcher: BrowserLauncher;
  sandboxMode: "bwrap" | "none";
  /** What may run in the sandbox. */
  code: CodeAvailability;
  /** Largest CDP message code in the sandbox may send its browser. */
  cdpMaxMessageBytes: number;
  /** CDP connections the sandbox may have open to its browser (socket and port together). */
  cdpConnections: { max: number; refusal: ConnectionRefusal };
  /** Routine lines: worker starts and the runners' own output. */
  log?: Pick<Logger, "info">;
}

/**
 * Removes every per-session folder on disk: sandbox folders, CDP sockets, the runtime copy and
 * unjailed browsers' profiles. Call when no browser or worker of ours runs: at start, after
 * reaping a killed predecessor's processes, and at shutdown, once everything is stopped.
 */
export function removeRunFolders(dataDir: string): void {
  for (const dir of [sandboxRoot(dataDir), profilesRoot(dataDir), artifactsRoot(dataDir)]) {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/**
 * Starts what a session needs before it is bound to a scrape: its own Chromium, the server's
 * connection to it, its sandbox, and a node worker there (the default language) ready to attach.
 */
export async function createSessionResources(opts: ResourceOptions): Promise<SessionResources> {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  // Everything is killed at once rather than shut down politely: a session's state is thrown
  // away anyway, and a graceful Chromium exit takes about a second.
  const release = async () => {
    await Promise.all(
      cleanups
        .splice(0)
        .map(async (fn) => fn())
        .map((p) => p.catch(() => {})),
    );
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

    // One count for every way the sandbox has to its browser, its runners' own included.
    const cap = new ConnectionCap(opts.cdpConnections.max, opts.cdpConnections.refusal);
    const sandbox = await SessionSandbox.create({
      root: sandboxRoot(opts.dataDir),
      mode: opts.sandboxMode,
      code: opts.code,
      browser: {
        listen: (socket, o) => proc.cdp.listen(socket, { ...o, cap }),
        serve: (listener, o) => serveCdpPort(proc.cdp, listener, { ...o, cap }),
      },
      cdpMaxMessageBytes: opts.cdpMaxMessageBytes,
      log: opts.log,
    });
    cleanups.push(() => sandbox.close());
    // Started now; it loads Playwright and connects by itself (the factory waits for that
    // before the restore, and binds the restored page after it).
    await sandbox.worker("node");
    return { proc, browser, context, page, cdp, sandbox, release };
  } catch (err) {
    await release();
    throw err;
  }
}

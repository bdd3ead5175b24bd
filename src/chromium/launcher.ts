import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import type { EgressProxy } from "../network/egress-proxy.js";
import type { BacklogLimits } from "../cdp/backlog.js";
import { launchChromium, type ChromiumProcess } from "./chromium-process.js";
import type { JailOptions } from "../isolation/browser-jail.js";

export interface BrowserLauncherOptions {
  chromiumPath: () => string;
  /** Jail every browser (bubblewrap works here), or run them plainly when undefined. */
  jail: Omit<JailOptions, "uid"> | undefined;
  /** Unjailed browsers' profiles go here. */
  profilesRoot: string;
  /** A folder only this server may enter: its own CDP sockets go there. */
  socketDir: string;
  /** Playwright's artifacts (downloads) go in a folder per browser here (artifactsRoot). */
  artifactsRoot: string;
  egress: EgressProxy;
  /** What tenants' CDP clients of each browser may leave unread, and for how long. */
  cdpBacklog?: BacklogLimits;
}

/** A running browser and this server's own Playwright connection to it. */
export interface LaunchedBrowser {
  proc: ChromiumProcess;
  browser: Browser;
}

/** This server's own connections may carry whole screenshots and uploads. */
const SERVER_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/**
 * Starts browsers the one way this server does: jailed when it can be, CDP over a pipe, all
 * traffic through the egress proxy. Used for the scrape browser and for session browsers.
 */
export class BrowserLauncher {
  constructor(private readonly opts: BrowserLauncherOptions) {
    fs.mkdirSync(opts.socketDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(opts.socketDir, 0o700);
  }

  get egress(): EgressProxy {
    return this.opts.egress;
  }

  async launch(): Promise<LaunchedBrowser> {
    const { jail, egress } = this.opts;
    const proc = await launchChromium({
      executablePath: this.opts.chromiumPath(),
      jail,
      profilesRoot: this.opts.profilesRoot,
      proxyServer: jail ? undefined : await egress.tcpUrl(),
      cdpBacklog: this.opts.cdpBacklog,
    });
    try {
      if (proc.egress) {
        egress.serve(proc.egress);
        void proc.exited.then(() => proc.egress?.close());
      }
      const socket = path.join(this.opts.socketDir, `${proc.id}.sock`);
      const endpoint = await proc.cdp.listen(socket, {
        maxMessageBytes: SERVER_MAX_MESSAGE_BYTES,
        trusted: true,
      });
      // A folder of ours rather than Playwright's own temporary one, which a killed server
      // would leave behind with nothing to say whose it was.
      const artifactsDir = path.join(this.opts.artifactsRoot, proc.id);
      fs.mkdirSync(artifactsDir, { recursive: true, mode: 0o700 });
      void proc.exited.then(() => fs.rmSync(artifactsDir, { recursive: true, force: true }));
      const browser = await chromium.connectOverCDP(endpoint.url, { artifactsDir });
      return { proc, browser };
    } catch (err) {
      await proc.kill();
      throw err;
    }
  }
}

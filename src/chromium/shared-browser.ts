import type { Browser } from "playwright-core";
import type { EgressProxy } from "../network/egress-proxy.js";
import { ChromiumNotFoundError } from "./find-chromium.js";
import type { BrowserLauncher, LaunchedBrowser } from "./launcher.js";
import { silentLogger, type Logger } from "../log/logger.js";

/**
 * The browser scrapes run in. Scrapes run no user code, so they share one process with a fresh
 * context each; it is started on first use and started again if it dies. It is jailed like a
 * session's browser: a hostile page gets no further than any other.
 */
export class SharedBrowser {
  private current: Promise<LaunchedBrowser> | undefined;
  private closed = false;

  constructor(
    private readonly launcher: BrowserLauncher,
    private readonly log: Pick<Logger, "warn"> = silentLogger,
  ) {}

  /** The proxy its traffic goes through, which knows why a connection failed. */
  get egress(): EgressProxy {
    return this.launcher.egress;
  }

  /** A connected browser, launching one if none is running. */
  async get(): Promise<Browser> {
    if (this.closed) throw new Error("browser is shut down");
    if (!this.current) {
      const starting = this.start();
      this.current = starting;
      starting.catch(() => {
        if (this.current === starting) this.current = undefined;
      });
    }
    return (await this.current).browser;
  }

  /**
   * Launches, once more after a failed start: a start can fail for a passing reason (the machine
   * too busy to start it within its deadline), and every scrape waiting on it would fail with it.
   */
  private async start(): Promise<LaunchedBrowser> {
    let mine: LaunchedBrowser;
    try {
      mine = await this.launcher.launch();
    } catch (err) {
      if (err instanceof ChromiumNotFoundError || this.closed) throw err;
      this.log.warn({ err }, "the scrape browser did not start; trying once more");
      mine = await this.launcher.launch();
    }
    mine.browser.on("disconnected", () => {
      void this.current?.then((c) => {
        if (c === mine) this.current = undefined;
      });
      void mine.proc.kill();
    });
    return mine;
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = await this.current?.catch(() => undefined);
    this.current = undefined;
    if (c) await c.proc.kill();
  }
}

import { chromium, type Browser } from "playwright-core";
import { launchChromium, type ChromiumProcess } from "./chromium-process.js";

/**
 * The browser scrapes run in. Scrapes run no user code, so they share one process with a fresh
 * context each; it is started on first use and started again if it dies.
 */
export class SharedBrowser {
  private current: Promise<{ proc: ChromiumProcess; browser: Browser }> | undefined;
  private closed = false;

  constructor(
    private readonly executablePath: () => string,
    private readonly dataDir: string,
    /** bubblewrap, when present: the browser then also dies with the server, even on SIGKILL. */
    private readonly bwrapPath?: string,
  ) {}

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

  private async start() {
    const proc = await launchChromium({
      executablePath: this.executablePath(),
      dataDir: this.dataDir,
      bwrapPath: this.bwrapPath,
    });
    try {
      const browser = await chromium.connectOverCDP(proc.wsEndpoint);
      const mine = { proc, browser };
      browser.on("disconnected", () => {
        void this.current?.then((c) => {
          if (c === mine) this.current = undefined;
        });
        void proc.kill();
      });
      return mine;
    } catch (err) {
      await proc.kill();
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = await this.current?.catch(() => undefined);
    this.current = undefined;
    if (c) {
      await c.browser.close().catch(() => {});
      await c.proc.kill();
    }
  }
}

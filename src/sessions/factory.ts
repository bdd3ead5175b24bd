import type { BrowserContext } from "playwright-core";
import { AppError, MESSAGES } from "../errors/app-error.js";
import type { ReplayContext } from "../page-state/replay-context.js";
import type { SessionResources } from "./resources.js";
import { restoreReplayContext } from "./restore.js";
import { blankStart, type BlankStartOptions } from "./blank-start.js";
import type { Logger } from "../log/logger.js";
import type { CodeAvailability } from "../sandbox/index.js";

export interface SessionFactoryOptions {
  /** Started resources, from the warm pool when it has some. */
  takeResources: () => Promise<SessionResources>;
  /** Whether code can run here: sessions are refused where none can (no working sandbox). */
  code: Pick<CodeAvailability, "assertSandbox">;
  /** Finds Chromium; throws with a message for the caller when there is none. */
  chromiumPath: () => string;
  log: Pick<Logger, "warn">;
}

const RESTORE_TIMEOUT_MS = 30_000;

/**
 * Makes the browser side of a session: resources from the warm pool, put back at the scrape's
 * page state, with the default language's worker attached to the restored page.
 */
export class SessionFactory {
  constructor(private readonly opts: SessionFactoryOptions) {}

  /** Throws a 503 AppError when this machine cannot run sessions at all. */
  assertAvailable(): void {
    this.opts.code.assertSandbox();
    try {
      this.opts.chromiumPath();
    } catch (err) {
      throw new AppError("BROWSER_UNAVAILABLE", (err as Error).message);
    }
  }

  /** A standalone session's resources, on a blank page. Nothing is left on failure. */
  createBlank(
    sessionId: string,
    start: BlankStartOptions,
    prepare?: (context: BrowserContext) => Promise<void>,
  ): Promise<SessionResources> {
    return this.create(sessionId, (version) => blankStart(version, start), prepare);
  }

  /** A session's resources at the replay context's page state. Nothing is left on failure. */
  async create(
    scrapeId: string,
    replay: ReplayContext | ((browserVersion: string) => ReplayContext),
    /** Runs on the fresh context before the restore (a named profile's state goes in here). */
    prepare?: (context: BrowserContext) => Promise<void>,
  ): Promise<SessionResources> {
    let resources: SessionResources;
    try {
      resources = await this.opts.takeResources();
    } catch (err) {
      this.opts.log.warn({ err }, "could not start a browser for a session");
      throw new AppError("BROWSER_FAILED", "Failed to start a browser for this session.");
    }
    const node = () => resources.sandbox.worker("node");
    const step = async (run: () => Promise<unknown>, fail: () => AppError, what?: string) => {
      try {
        await run();
      } catch (err) {
        await resources.release();
        if (what) this.opts.log.warn({ err, scrapeId }, what);
        throw err instanceof AppError || !what ? err : fail();
      }
    };
    const browserFailed = () =>
      new AppError("BROWSER_FAILED", "Failed to start a browser for this session.");
    await step(async () => prepare?.(resources.context), browserFailed);
    // The worker was started with the browser and connects by itself once its Playwright is
    // loaded; a connection made before the restore sees the navigation whole, while one made
    // during it can catch the page half loaded (Playwright then reports "Loading <url>").
    await step(
      async () => (await node()).connect(),
      browserFailed,
      "the session's code worker could not connect",
    );
    await step(
      () =>
        restoreReplayContext(
          resources,
          typeof replay === "function" ? replay(resources.browser.version()) : replay,
          RESTORE_TIMEOUT_MS,
        ),
      () => new AppError("REPLAY_CONTEXT_UNAVAILABLE", MESSAGES.replayUnavailable),
      "restoring the replay context failed",
    );
    // Binds `page` to the tab the restore left, once loaded.
    await step(
      async () => (await node()).attach(),
      browserFailed,
      "the session's code worker could not attach",
    );
    return resources;
  }
}

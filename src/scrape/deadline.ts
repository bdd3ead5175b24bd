import { AppError } from "../errors/app-error.js";

/**
 * One scrape's time budget joined with the client's AbortSignal. Whichever ends first aborts
 * `signal`; the scrape closes its browser context on that, so every pending browser call fails
 * at once instead of each step needing its own timeout.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly endsAt: number;
  private expired = false;
  private readonly onParentAbort = () => this.controller.abort();
  /** What the scrape is doing, for the timeout message ("loading the page", "action 2 (click)"). */
  stage = "starting the browser";

  constructor(
    readonly timeoutMs: number,
    private readonly parent: AbortSignal,
    private readonly target: string,
  ) {
    this.endsAt = Date.now() + timeoutMs;
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort();
    }, timeoutMs);
    if (parent.aborted) this.controller.abort();
    else parent.addEventListener("abort", this.onParentAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Milliseconds left, at least 1: Playwright reads a timeout of 0 as "wait forever". */
  remaining(): number {
    return Math.max(1, this.endsAt - Date.now());
  }

  /** The error for running out of time, naming the target and what the scrape was doing. */
  timeoutError(): AppError {
    return new AppError(
      "SCRAPE_TIMEOUT",
      `Scrape of ${this.target} timed out after ${this.timeoutMs} ms while ${this.stage}.`,
    );
  }

  /** The error to report once aborted: a timeout, or the client having gone away. */
  abortError(): AppError | undefined {
    if (this.expired) return this.timeoutError();
    if (this.controller.signal.aborted) {
      return new AppError("SCRAPE_FAILED", "The client closed the connection; scrape stopped.");
    }
    return undefined;
  }

  /** Throws abortError() if the scrape must stop. */
  check(): void {
    const err = this.abortError();
    if (err) throw err;
  }

  /** Waits ms, or less if aborted (then throws the abort error). */
  async sleep(ms: number): Promise<void> {
    this.check();
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      const signal = this.controller.signal;
      function done() {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
    this.check();
  }

  /** Stops the timer and lets go of the client's signal. */
  dispose(): void {
    clearTimeout(this.timer);
    this.parent.removeEventListener("abort", this.onParentAbort);
  }
}

/** The error a Deadline gives by default when its time runs out. */
export class DeadlineExceededError extends Error {
  override name = "DeadlineExceededError";
}

/** The error a Deadline gives by default when its caller's signal aborted it. */
export class OperationCancelledError extends Error {
  override name = "OperationCancelledError";
}

export interface DeadlineOptions {
  /** Stops the operation too when it aborts: the client went away, the owner shut down. */
  signal?: AbortSignal;
  /** What the operation does first; see `stage`. */
  stage?: string;
  /** The error for running out of time; asked each time, so it can name the current stage. */
  timeoutError?: (d: Deadline) => Error;
  /** The error for `signal` having aborted. */
  cancelError?: (d: Deadline) => Error;
}

/**
 * One operation's time budget joined with its caller's AbortSignal, in one object: whichever
 * ends first aborts `signal`, so every step listening to it stops at once instead of each
 * needing its own timeout. Steps that cannot be cancelled are raced against it (`race`), and
 * what they produce too late is cleaned up (`raceUncancellable`). After Playwright's
 * server/progress.ts. Call dispose() when the operation is over.
 */
export class Deadline {
  readonly endsAt: number;
  /** What the operation is doing now, for the timeout message ("loading the page"). */
  stage: string;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private ended: "timeout" | "cancelled" | undefined;
  private readonly onParentAbort = () => this.end("cancelled");

  constructor(
    readonly timeoutMs: number,
    private readonly opts: DeadlineOptions = {},
  ) {
    this.stage = opts.stage ?? "running";
    this.endsAt = Date.now() + timeoutMs;
    this.timer = setTimeout(() => this.end("timeout"), timeoutMs);
    if (opts.signal?.aborted) this.end("cancelled");
    else opts.signal?.addEventListener("abort", this.onParentAbort, { once: true });
  }

  /** Aborts when the time runs out or the caller's signal aborts; its reason is the error. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True once the time ran out (as opposed to the caller cancelling). */
  get timedOut(): boolean {
    return this.ended === "timeout";
  }

  /** Milliseconds left, at least 1: Playwright reads a timeout of 0 as "wait forever". */
  remaining(): number {
    return Math.max(1, this.endsAt - Date.now());
  }

  /** The error for running out of time, naming what the operation was doing. */
  timeoutError(): Error {
    return (
      this.opts.timeoutError?.(this) ??
      new DeadlineExceededError(`Timed out after ${this.timeoutMs} ms while ${this.stage}.`)
    );
  }

  /** The error to report once ended: a timeout or a cancellation; undefined while running. */
  abortError(): Error | undefined {
    if (this.ended === "timeout") return this.timeoutError();
    if (this.ended === "cancelled") {
      return (
        this.opts.cancelError?.(this) ?? new OperationCancelledError("The operation was cancelled.")
      );
    }
    return undefined;
  }

  /** Throws abortError() if the operation must stop. */
  check(): void {
    const err = this.abortError();
    if (err) throw err;
  }

  /** `p`'s outcome, or abortError() as soon as the deadline ends first. */
  race<T>(p: Promise<T>): Promise<T> {
    const err = this.abortError();
    if (err) {
      p.catch(() => {}); // its outcome no longer matters to anyone
      return Promise.reject(err);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.abortError());
      this.signal.addEventListener("abort", onAbort, { once: true });
      p.then(
        (v) => {
          this.signal.removeEventListener("abort", onAbort);
          resolve(v);
        },
        (e: unknown) => {
          this.signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  }

  /**
   * Runs an operation that cannot be cancelled (a process handing over a socket) against the
   * deadline; if the deadline ends first, whatever the operation produces later is handed to
   * `cleanup` instead of being lost.
   */
  async raceUncancellable<T>(run: () => Promise<T>, cleanup: (value: T) => unknown): Promise<T> {
    let late = false;
    const p = run().then(async (value) => {
      if (late) await cleanup(value);
      return value;
    });
    try {
      return await this.race(p);
    } catch (err) {
      late = true;
      throw err;
    }
  }

  /** Waits ms, or less if the deadline ends first (then throws abortError()). */
  async sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.race(new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))));
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the timer and lets go of the caller's signal. The deadline no longer ends by itself. */
  dispose(): void {
    clearTimeout(this.timer);
    this.opts.signal?.removeEventListener("abort", this.onParentAbort);
  }

  private end(why: "timeout" | "cancelled"): void {
    if (this.ended) return;
    this.ended = why;
    this.opts.signal?.removeEventListener("abort", this.onParentAbort);
    clearTimeout(this.timer);
    this.controller.abort(this.abortError());
  }
}

/**
 * `p`'s value, or undefined when `ms` pass first; `p` keeps running. For a reply that may never
 * come (a process that stopped answering), where the caller decides what silence means.
 */
export async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  const deadline = new Deadline(ms);
  try {
    return await deadline.race(p);
  } catch (err) {
    if (deadline.timedOut) return undefined;
    throw err;
  } finally {
    deadline.dispose();
  }
}

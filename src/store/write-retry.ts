import type { Logger } from "../log/logger.js";

/** First pause before a failed write is tried again; it doubles up to MAX_DELAY_MS. */
const MIN_DELAY_MS = 250;
const MAX_DELAY_MS = 10_000;
/**
 * Most writes kept waiting. Each is one small closure (a session's end, a refund), and what
 * waits is bounded by what was under way when the database went (live sessions, scrapes in
 * flight): this only stops a bug from growing the heap. One dropped is left to the next start.
 */
const MAX_PENDING = 100_000;

export interface WriteRetryOptions {
  log: Pick<Logger, "warn" | "info">;
  minDelayMs?: number;
  maxDelayMs?: number;
  maxPending?: number;
}

/**
 * Writes the store must take in the end (a session's end, a settlement, a refund): one that
 * fails is kept, by key, and tried again with a growing pause until the store takes it. While
 * the database is down only one write is tried per pause, so an outage is not met with a storm.
 */
export class WriteRetry {
  /** Waiting writes by key, oldest first. */
  private readonly pending = new Map<string, () => Promise<void>>();
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxPending: number;
  private delayMs: number;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly opts: WriteRetryOptions) {
    this.minDelayMs = opts.minDelayMs ?? MIN_DELAY_MS;
    this.maxDelayMs = opts.maxDelayMs ?? MAX_DELAY_MS;
    this.maxPending = opts.maxPending ?? MAX_PENDING;
    this.delayMs = this.minDelayMs;
  }

  /** Writes waiting for the store. */
  get size(): number {
    return this.pending.size;
  }

  /** Whether the write under this key is still waiting for the store. */
  has(key: string): boolean {
    return this.pending.has(key);
  }

  /**
   * Runs `write` now; if it fails, keeps it under `key` (replacing a write waiting under the
   * same key) and tries again later until it succeeds. True when it was written now.
   */
  async run(key: string, write: () => Promise<void>): Promise<boolean> {
    if (this.pending.has(key)) {
      this.pending.set(key, write);
      return false;
    }
    try {
      await write();
      return true;
    } catch (err) {
      this.keep(key, write, err);
      return false;
    }
  }

  /** Tries every waiting write now, oldest first, until one fails; resolves when done. */
  flush(): Promise<void> {
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    return this.draining;
  }

  /** One last try of what waits; what still fails is left to the next start. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    this.closed = true;
    if (this.pending.size > 0) {
      this.opts.log.warn(
        { writes: [...this.pending.keys()] },
        "writes the database never took; the next start settles them",
      );
      this.pending.clear();
    }
  }

  private keep(key: string, write: () => Promise<void>, err: unknown): void {
    if (this.pending.size === 0) {
      this.opts.log.warn({ err, key }, "the database did not take a write; retrying until it does");
    }
    this.pending.set(key, write);
    if (this.pending.size > this.maxPending) {
      const oldest = this.pending.keys().next().value!;
      this.pending.delete(oldest);
      this.opts.log.warn(
        { key: oldest },
        "too many writes waiting; the next start settles this one",
      );
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.timer || this.pending.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.delayMs);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    let written = 0;
    for (const [key, write] of [...this.pending]) {
      // Replaced or taken while an earlier one was written.
      if (this.pending.get(key) !== write) continue;
      try {
        await write();
      } catch {
        // To the back of the line: a write that can never succeed does not hold up the rest.
        if (this.pending.get(key) === write) {
          this.pending.delete(key);
          this.pending.set(key, write);
        }
        this.delayMs = Math.min(this.maxDelayMs, this.delayMs * 2);
        this.schedule();
        return;
      }
      if (this.pending.get(key) === write) this.pending.delete(key);
      written++;
    }
    this.delayMs = this.minDelayMs;
    if (written > 0 && this.pending.size === 0) {
      this.opts.log.info({ writes: written }, "the database took the writes that were waiting");
    }
    // Added while this drain ran.
    this.schedule();
  }
}

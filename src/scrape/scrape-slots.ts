import type { Deadline } from "../deadline/deadline.js";
import { AppError, MESSAGES } from "../errors/app-error.js";

interface Waiter {
  grant: () => void;
}

/**
 * How many scrapes use the browser at once. Past `max` a scrape waits its turn, first come
 * first served, while its own deadline runs: it still times out or stops when its client goes
 * away. Past `maxWaiting` waiting, a scrape is refused at once with 429 rather than queued.
 */
export class ScrapeSlots {
  private inUse = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly max: number,
    readonly maxWaiting: number,
  ) {}

  /** Scrapes holding a slot now. */
  get running(): number {
    return this.inUse;
  }

  /** Scrapes waiting for one. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Takes a slot, waiting for one if need be; returns the function that gives it back (call it
   * exactly once). Throws TOO_MANY_SCRAPES when the queue is full, or the deadline's error when
   * it ends while waiting.
   */
  async acquire(deadline: Deadline): Promise<() => void> {
    deadline.check();
    if (this.inUse < this.max && this.queue.length === 0) return this.take();
    if (this.queue.length >= this.maxWaiting) {
      throw new AppError("TOO_MANY_SCRAPES", MESSAGES.tooManyScrapes, {
        running: this.inUse,
        waiting: this.queue.length,
      });
    }
    const stage = deadline.stage;
    deadline.stage = "waiting for a free scrape slot";
    let waiter: Waiter | undefined;
    const granted = new Promise<void>((resolve) => {
      waiter = { grant: resolve };
      this.queue.push(waiter);
    });
    try {
      await deadline.race(granted);
    } catch (err) {
      const i = this.queue.indexOf(waiter!);
      // Still queued: leave. Already granted at the same moment: pass the slot on.
      if (i >= 0) this.queue.splice(i, 1);
      else this.release();
      throw err;
    }
    deadline.stage = stage;
    return this.once();
  }

  private take(): () => void {
    this.inUse++;
    return this.once();
  }

  /** A release function that counts only once, however often it is called. */
  private once(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release();
    };
  }

  /** Hands the slot to the first waiter, or frees it. */
  private release(): void {
    const next = this.queue.shift();
    if (next) next.grant();
    else this.inUse--;
  }
}

import type { SessionResources } from "./resources.js";

export interface WarmPoolOptions {
  /** Most entries kept ready ahead of demand (BROWSER_POOL_SIZE); 0 starts only on demand. */
  ceiling: number;
  /**
   * Most launches at once. On a small machine more would only share the same cores: a burst of
   * twenty would all finish together, late, instead of one after another.
   */
  maxLaunches: number;
  create: () => Promise<SessionResources>;
  /** A launch made ahead of demand failed (one made for a caller fails that caller instead). */
  onError: (err: unknown) => void;
  /**
   * Whether one more browser may start ahead of demand now (free memory, the session cap),
   * given how many the pool holds ready or starting.
   */
  roomForOne?: (pooled: number) => boolean;
  now?: () => number;
}

/** Takes within this window set the pace the pool keeps ahead of. */
const RATE_WINDOW_MS = 60_000;
/** With no take for this long the pool shrinks to one ready entry. */
const IDLE_AFTER_MS = 5 * 60_000;
/** After a failed launch ahead of demand, the next waits this long. */
const RETRY_AFTER_MS = 5_000;
const TRIM_EVERY_MS = 30_000;

interface Waiter {
  resolve(r: SessionResources): void;
  reject(err: unknown): void;
}

/**
 * Session resources started ahead of demand, so a first interact does not wait for a browser
 * launch. How many it keeps ready follows the rate of takes (bounded by the ceiling, free memory
 * and the session cap) and falls back to one when idle. Launches, ahead of demand or for a
 * caller, go at most `maxLaunches` at a time; callers waiting get each new entry in arrival
 * order, so under a burst sessions become ready one after another. Entries whose browser or
 * sandbox died while waiting are thrown away.
 */
export class WarmPool {
  private readonly ready: SessionResources[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly recentTakes: number[] = [];
  private readonly starting = new Set<Promise<unknown>>();
  private launching = 0;
  /** Typical launch time (moving average), for how far ahead the pool must start. */
  private launchMs = 1_000;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly trimTimer: NodeJS.Timeout;
  private closed = false;
  private readonly now: () => number;
  /** Takes answered from a ready entry, and those that had to wait for a launch. */
  readonly takes = { hit: 0, miss: 0 };

  constructor(private readonly opts: WarmPoolOptions) {
    this.now = opts.now ?? Date.now;
    this.trimTimer = setInterval(() => this.trim(), TRIM_EVERY_MS);
    this.trimTimer.unref();
  }

  /** A ready entry if one is waiting, else the next one launched. Refills in the background. */
  take(): Promise<SessionResources> {
    if (this.closed) return Promise.reject(new Error("the warm pool is closed"));
    this.recentTakes.push(this.now());
    let entry: SessionResources | undefined;
    while ((entry = this.ready.shift())) {
      if (entry.browser.isConnected() && entry.sandbox.alive) break;
      void entry.release();
    }
    this.takes[entry ? "hit" : "miss"]++;
    if (entry) {
      this.fill();
      return Promise.resolve(entry);
    }
    const waiting = new Promise<SessionResources>((resolve, reject) =>
      this.waiters.push({ resolve, reject }),
    );
    this.fill();
    return waiting;
  }

  /** Entries ready now. */
  get readyCount(): number {
    return this.ready.length;
  }

  /** Launches under way. */
  get launchingCount(): number {
    return this.launching;
  }

  /** How many entries the pool aims to hold ready now. */
  get target(): number {
    const { ceiling } = this.opts;
    if (ceiling === 0) return 0;
    const now = this.now();
    while (this.recentTakes.length && this.recentTakes[0]! < now - RATE_WINDOW_MS) {
      this.recentTakes.shift();
    }
    const last = this.recentTakes.at(-1);
    if (last === undefined || now - last > IDLE_AFTER_MS) return 1;
    // Enough to cover the takes expected while a replacement launches, twice over, plus one.
    const perLaunch = (this.recentTakes.length / RATE_WINDOW_MS) * this.launchMs;
    return Math.min(ceiling, 1 + Math.ceil(2 * perLaunch));
  }

  /** Starts launches for waiting callers first, then ahead of demand up to the target. */
  fill(): void {
    while (!this.closed && this.launching < this.opts.maxLaunches) {
      const forCallers = this.waiters.length - this.launching;
      const ahead = this.ready.length + Math.max(0, this.launching - this.waiters.length);
      const wantAhead = this.target > ahead && this.mayStartAhead();
      if (forCallers <= 0 && !wantAhead) return;
      this.launch();
    }
  }

  private mayStartAhead(): boolean {
    if (this.now() < this.retryAt) return false;
    return this.opts.roomForOne?.(this.readyCount + this.launchingCount) ?? true;
  }

  private launch(): void {
    this.launching++;
    const t0 = this.now();
    const p = this.opts.create().then(
      (r) => {
        this.launching--;
        this.launchMs = 0.7 * this.launchMs + 0.3 * (this.now() - t0);
        this.deliver(r);
        this.fill();
      },
      (err) => {
        this.launching--;
        const waiter = this.waiters.shift();
        if (waiter) waiter.reject(err);
        else this.failedAhead(err);
        this.fill();
      },
    );
    this.starting.add(p);
    void p.finally(() => this.starting.delete(p));
  }

  /** A new entry goes to the caller waiting longest, else into the pool. */
  private deliver(r: SessionResources): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(r);
    else if (this.closed) void r.release();
    else this.ready.push(r);
  }

  private failedAhead(err: unknown): void {
    this.opts.onError(err);
    this.retryAt = this.now() + RETRY_AFTER_MS;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.fill(), RETRY_AFTER_MS);
    this.retryTimer.unref();
  }

  /** Lets ready entries beyond the target go, oldest first: an idle pool holds little memory. */
  private trim(): void {
    while (this.ready.length > this.target) void this.ready.shift()!.release();
    this.fill();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.trimTimer);
    clearTimeout(this.retryTimer);
    for (const w of this.waiters.splice(0)) w.reject(new Error("the warm pool is closed"));
    await Promise.all([...this.starting]);
    await Promise.all(this.ready.splice(0).map((r) => r.release()));
  }
}

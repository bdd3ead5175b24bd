import type { SessionResources } from "./resources.js";

/**
 * Session resources started ahead of demand, so a first interact does not wait for a browser
 * launch. Entries whose browser or sandbox died while waiting are thrown away.
 */
export class WarmPool {
  private readonly ready: SessionResources[] = [];
  private filling = 0;
  private readonly starting = new Set<Promise<unknown>>();
  private closed = false;
  /** Takes answered from a ready entry, and those that had to start one. */
  readonly takes = { hit: 0, miss: 0 };

  constructor(
    private readonly size: number,
    private readonly create: () => Promise<SessionResources>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** A ready entry if one is waiting, else a freshly started one. Refills in the background. */
  async take(): Promise<SessionResources> {
    let entry: SessionResources | undefined;
    while ((entry = this.ready.shift())) {
      if (entry.browser.isConnected() && entry.sandbox.alive) break;
      void entry.release();
    }
    this.fill();
    this.takes[entry ? "hit" : "miss"]++;
    return entry ?? this.create();
  }

  /** Entries ready now. */
  get readyCount(): number {
    return this.ready.length;
  }

  /** Starts entries until size are ready or starting. */
  fill(): void {
    while (!this.closed && this.ready.length + this.filling < this.size) {
      this.filling++;
      const p = this.create().then(
        (r) => {
          this.filling--;
          if (this.closed) void r.release();
          else this.ready.push(r);
        },
        (err) => {
          this.filling--;
          this.onError(err);
        },
      );
      this.starting.add(p);
      void p.finally(() => this.starting.delete(p));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.starting]);
    await Promise.all(this.ready.splice(0).map((r) => r.release()));
  }
}

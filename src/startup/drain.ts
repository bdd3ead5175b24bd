import type { Logger } from "../log/logger.js";

export interface DrainOptions {
  /** Stops new sessions from starting here. */
  refuseNew: () => void;
  /** Sessions alive or being made here now. */
  live: () => number;
  /**
   * Requests being answered now: the one that ends the last session (a stop) is answered
   * before the server closes, and so is a scrape still running.
   */
  requests: () => number;
  /** Tells the other nodes (and so routing) that this one drains; absent on a lone server. */
  announce?: () => Promise<void>;
  /** How long live sessions may go on before they are ended with the rest of the server. */
  drainMs: number;
  /** Closes the server: every session still live ends with reason `shutdown`. */
  close: () => Promise<void>;
  log: Pick<Logger, "info" | "warn">;
}

/** How often a draining server looks whether its last session has ended. */
const POLL_MS = 250;

/**
 * A server going away without cutting anyone off (SIGTERM, or the admin command through the
 * nodes table): readiness turns 503 so load balancers send nothing new, no session starts here,
 * the live ones keep answering until they end or DRAIN_SECONDS pass; then the server closes.
 */
export class Drain {
  private running: Promise<void> | undefined;
  private resolveFinished!: () => void;
  /** Resolves once a drain has closed the server. */
  readonly finished = new Promise<void>((resolve) => (this.resolveFinished = resolve));

  constructor(private readonly opts: DrainOptions) {}

  /** Whether the server drains (readiness answers 503 while it does). */
  get active(): boolean {
    return this.running !== undefined;
  }

  /** Drains, then closes the server; once however often it is called. */
  start(): Promise<void> {
    this.running ??= this.run().finally(() => this.resolveFinished());
    return this.running;
  }

  private async run(): Promise<void> {
    const { opts } = this;
    opts.refuseNew();
    await opts.announce?.().catch((err: unknown) => {
      opts.log.warn({ err }, "could not tell the other nodes that this one drains");
    });
    const deadline = Date.now() + opts.drainMs;
    opts.log.info(
      { sessions: opts.live(), seconds: opts.drainMs / 1000 },
      "draining: no new sessions; waiting for the live ones to end",
    );
    const busy = () => opts.live() > 0 || opts.requests() > 0;
    while (busy() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, deadline - Date.now())));
    }
    if (opts.live() > 0) {
      opts.log.info({ sessions: opts.live() }, "drain deadline passed: ending the live sessions");
    }
    await opts.close();
  }
}

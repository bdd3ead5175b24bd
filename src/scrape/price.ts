import { AppError } from "../errors/app-error.js";
import { isServerFault } from "./fault.js";

/**
 * What a scrape costs: 1 credit per started minute it holds a scrape slot, at least 1. A minute
 * or less (every scrape within the default 30 s timeout) is Firecrawl's 1 credit a scrape.
 */
const MINUTE_MS = 60_000;

/** Credits for holding a slot `ms` long: per started minute, at least 1. */
export function slotCredits(ms: number): number {
  return Math.max(1, Math.ceil(ms / MINUTE_MS));
}

/** How one scrape was paid for: its price, what comes back of its hold, and why. */
export interface ScrapeSettlement {
  /** Credits taken before it ran: the most it could cost. */
  held: number;
  /** What it cost. */
  price: number;
  /** What comes back: held - price. */
  refund: number;
  failed: boolean;
  /** For the ledger: why this price. */
  note: string;
}

/**
 * One scrape's bill. The most it can cost (its whole timeout in a slot) is held before it runs;
 * it then pays for the slot time it held, unless it never held one or failed for a reason of
 * the server's own. A failure that is the tenant's doing (the site it chose never answered, or
 * refused it) is paid like a success: holding a slot with a page that never answers costs the
 * one who asked for it, and a refund would make that free.
 */
export class ScrapeMeter {
  /** Credits to take before the scrape runs. */
  readonly held: number;
  private takenAt: number | undefined;
  private heldMs: number | undefined;

  constructor(
    readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.held = slotCredits(timeoutMs);
  }

  /** The scrape took a slot. */
  slotTaken(): void {
    this.takenAt = this.now();
  }

  /** The scrape gave its slot back. */
  slotReleased(): void {
    if (this.takenAt !== undefined && this.heldMs === undefined) {
      this.heldMs = this.now() - this.takenAt;
    }
  }

  /** Milliseconds it held a slot (so far), or undefined when it never took one. */
  get slotMs(): number | undefined {
    if (this.takenAt === undefined) return undefined;
    return this.heldMs ?? this.now() - this.takenAt;
  }

  /** What a scrape that returned its document costs: a cache hit, which took no slot, 1. */
  price(): number {
    const ms = this.slotMs;
    return ms === undefined ? 1 : slotCredits(ms);
  }

  /** How the scrape is paid for, having returned its document (no error) or failed with `err`. */
  settle(failed: false): ScrapeSettlement;
  settle(failed: true, err: unknown): ScrapeSettlement;
  settle(failed: boolean, err?: unknown): ScrapeSettlement {
    const ms = this.slotMs;
    const slot = ms === undefined ? "" : ` after ${Math.ceil(ms / 1000)} s in a scrape slot`;
    const code = err instanceof AppError ? err.code : "INTERNAL";
    let price: number;
    let note: string;
    if (!failed) {
      price = this.price();
      note = ms === undefined ? "scrape answered from the cache" : `scrape done${slot}`;
    } else if (ms === undefined) {
      price = 0;
      note = `scrape failed (${code}) before taking a scrape slot: refunded`;
    } else if (isServerFault(err)) {
      price = 0;
      note = `scrape failed (${code}) for a reason of the server's own${slot}: refunded`;
    } else {
      price = slotCredits(ms);
      note = `scrape failed (${code}) at the target${slot}: ${price} kept`;
    }
    price = Math.min(price, this.held);
    return { held: this.held, price, refund: this.held - price, failed, note };
  }
}

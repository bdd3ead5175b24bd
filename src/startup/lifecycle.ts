import type { Logger } from "../log/logger.js";

/** How a part of the server stops: `drain` first (all parts), then `close` (all parts). */
export interface Stopping<T> {
  /**
   * Stops taking new work and ends what would hold up the others' close (sessions end here, so
   * that calls waiting on them return and the HTTP server can close).
   */
  drain?: (part: T) => unknown;
  /** Frees what it holds, once every part built after it has closed. */
  close?: (part: T) => unknown;
}

interface Part {
  name: string;
  drain?: () => unknown;
  close?: () => unknown;
}

/**
 * The parts of a running server in the order they were built, each with how it stops. Closing
 * runs every part's drain, newest first, then every part's close, newest first: a part is built
 * after what it uses, so nothing is closed under a part still using it. A part that fails to
 * stop is logged and the rest still stop.
 */
export class Lifecycle {
  private readonly parts: Part[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly log: Pick<Logger, "warn">) {}

  /** Registers a part just built; returns it, so building and registering is one line. */
  add<T>(name: string, part: T, stopping: Stopping<T>): T {
    this.parts.push({
      name,
      drain: stopping.drain && (() => stopping.drain!(part)),
      close: stopping.close && (() => stopping.close!(part)),
    });
    return part;
  }

  /** Registers a step with no part of its own, run in its place on close. */
  onClose(name: string, close: () => unknown): void {
    this.parts.push({ name, close });
  }

  /** Stops every part, once however often it is called. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const newestFirst = [...this.parts].reverse();
      for (const step of ["drain", "close"] as const) {
        for (const part of newestFirst) {
          try {
            await part[step]?.();
          } catch (err) {
            this.log.warn({ err, part: part.name }, `could not ${step} ${part.name}`);
          }
        }
      }
    })();
    return this.closing;
  }
}

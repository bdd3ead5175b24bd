import { AppError } from "../../errors/app-error.js";
import type { TransformInput, TransformOutput } from "./page-transform.js";
import { TaskError, WorkerPool } from "./worker-pool.js";

export interface PageTransformsOptions {
  /** Worker threads at most (SCRAPE_TRANSFORM_WORKERS). */
  workers: number;
  /** Heap limit of each, in MB (SCRAPE_TRANSFORM_MB). */
  memoryMb: number;
  /** How long one page's conversion may take (SCRAPE_TRANSFORM_SECONDS). */
  timeoutMs: number;
}

const MB = 1024 * 1024;

/** The answer for a page past SCRAPE_MAX_PAGE_MB: what it came to, and the limit. */
export function pageTooLarge(bytes: number, maxBytes: number): AppError {
  const mb = (b: number) => (b / MB).toFixed(b < 10 * MB ? 1 : 0).replace(/\.0$/, "");
  return new AppError(
    "SCRAPE_PAGE_TOO_LARGE",
    `The page is too large: what this scrape reads from it (its HTML, links and meta tags for ` +
      `the formats asked) comes to ${mb(bytes)} MB, more than the ${mb(maxBytes)} MB this server ` +
      `reads from one page (SCRAPE_MAX_PAGE_MB). Ask for part of the page (includeTags, ` +
      `excludeTags, onlyMainContent) or fewer formats.`,
    { bytes, maxBytes },
  );
}

/** Pages that may wait for a transform worker, per worker; past that a scrape answers 429. */
const QUEUE_PER_WORKER = 8;
/** When a scrape refused for a full queue may try again. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Markdown and metadata for a page read, made in worker threads so that no page, however large,
 * holds the event loop every request, CDP client and live view share. Failures become the
 * scrape's errors: a page too heavy to convert (time or memory) is a 422 stating the limit.
 */
export class PageTransforms {
  private readonly pool: WorkerPool<TransformInput, TransformOutput>;

  constructor(private readonly opts: PageTransformsOptions) {
    this.pool = new WorkerPool({
      module: new URL("./page-transform.ts", import.meta.url),
      size: opts.workers,
      maxQueue: opts.workers * QUEUE_PER_WORKER,
      timeoutMs: opts.timeoutMs,
      memoryMb: opts.memoryMb,
    });
  }

  /** Starts a worker if none runs, while the page is still loading. */
  warm(): void {
    this.pool.warm();
  }

  /** Converts one page read; `signal` (the scrape's deadline) stops the conversion. */
  async run(input: TransformInput, signal: AbortSignal): Promise<TransformOutput> {
    try {
      return await this.pool.run(input, signal);
    } catch (err) {
      throw err instanceof TaskError ? this.explain(err) : err;
    }
  }

  /** Terminates the workers. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private explain(err: TaskError): Error {
    const smaller =
      "Ask for part of the page (includeTags, excludeTags, onlyMainContent) or fewer formats.";
    switch (err.reason) {
      case "busy":
        return new AppError(
          "TOO_MANY_SCRAPES",
          "Too many pages are being converted at once on this server. Retry in a moment.",
          undefined,
          { retryAfterSeconds: RETRY_AFTER_SECONDS },
        );
      case "timeout":
        return new AppError(
          "SCRAPE_PAGE_TOO_LARGE",
          `Converting the page took longer than ${this.opts.timeoutMs / 1000} s, the most this ` +
            `server allows (SCRAPE_TRANSFORM_SECONDS). ${smaller}`,
        );
      case "memory":
        return new AppError(
          "SCRAPE_PAGE_TOO_LARGE",
          `Converting the page needed more than ${this.opts.memoryMb} MB of memory, the most ` +
            `this server allows (SCRAPE_TRANSFORM_MB). ${smaller}`,
        );
      case "failed":
        // Turndown recursing through a page nested thousands deep, or a string past V8's limit.
        if (err.message.startsWith("RangeError")) {
          return new AppError(
            "SCRAPE_PAGE_TOO_LARGE",
            `The page is nested too deeply or is too large to convert. ${smaller}`,
          );
        }
      // falls through: any other failure is the server's
      default:
        return new AppError(
          "INTERNAL",
          "The server failed while converting the page. Retry.",
          undefined,
          { cause: err },
        );
    }
  }
}

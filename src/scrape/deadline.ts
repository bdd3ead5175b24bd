import { Deadline } from "../deadline/deadline.js";
import { AppError } from "../errors/app-error.js";
import { serverFault } from "./fault.js";

/** The stage until the page starts loading: the server's own work (browser, context, page). */
const STARTING = "starting the browser";

/**
 * One scrape's deadline: its `timeout` joined with the client's connection. Its errors are the
 * scrape's own: "Scrape of <host> timed out after N ms while <stage>." (408) and, when the client
 * went away, a SCRAPE_FAILED nobody will read. A timeout before the page started loading is the
 * server's failure, not the site's (price.ts refunds it).
 */
export class ScrapeDeadline extends Deadline {
  constructor(timeoutMs: number, clientSignal: AbortSignal, target: string) {
    super(timeoutMs, {
      signal: clientSignal,
      stage: STARTING,
      timeoutError: (d) => {
        const err = new AppError(
          "SCRAPE_TIMEOUT",
          `Scrape of ${target} timed out after ${d.timeoutMs} ms while ${d.stage}.`,
        );
        return d.stage === STARTING ? serverFault(err) : err;
      },
      cancelError: () =>
        new AppError("SCRAPE_FAILED", "The client closed the connection; scrape stopped."),
    });
  }
}

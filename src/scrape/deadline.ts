import { Deadline } from "../deadline/deadline.js";
import { AppError } from "../errors/app-error.js";

/**
 * One scrape's deadline: its `timeout` joined with the client's connection. Its errors are the
 * scrape's own: "Scrape of <host> timed out after N ms while <stage>." (408) and, when the client
 * went away, a SCRAPE_FAILED nobody will read.
 */
export class ScrapeDeadline extends Deadline {
  constructor(timeoutMs: number, clientSignal: AbortSignal, target: string) {
    super(timeoutMs, {
      signal: clientSignal,
      stage: "starting the browser",
      timeoutError: (d) =>
        new AppError(
          "SCRAPE_TIMEOUT",
          `Scrape of ${target} timed out after ${d.timeoutMs} ms while ${d.stage}.`,
        ),
      cancelError: () =>
        new AppError("SCRAPE_FAILED", "The client closed the connection; scrape stopped."),
    });
  }
}

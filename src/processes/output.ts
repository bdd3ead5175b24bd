import type { Readable } from "node:stream";
import type { Logger } from "../log/logger.js";

export interface OutputOptions {
  /** Starts every logged line, e.g. "chromium[1234]". */
  prefix: string;
  /** Takes whole lines, at info level; nothing is logged without it. */
  log?: Pick<Logger, "info">;
  /** Characters logged over the process's life; past it one line says the rest is not. */
  logBudgetChars: number;
  /** Characters kept from the end of its output, for error messages. */
  tailChars: number;
}

/** Longest line logged as one; a longer run without a newline is logged in pieces this long. */
const MAX_LINE_CHARS = 4 * 1024;

/**
 * A child process's own stdout and stderr: logged line by line up to a budget, the end kept for
 * error messages. A process that prints without end costs a bounded amount of log and memory.
 */
export class ProcessOutput {
  private tailText = "";
  private logged = 0;
  private overBudget = false;
  private readonly partial = new Map<string, string>();

  constructor(private readonly opts: OutputOptions) {}

  /** Reads `stream` to its end; `label` marks its lines (out, err). */
  drain(stream: Readable | null | undefined, label: string): void {
    if (!stream) return;
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => this.write(label, chunk));
    stream.on("end", () => this.flush(label));
    stream.on("error", () => {});
  }

  /** Takes a chunk of the stream `label`, logging each complete line. */
  write(label: string, chunk: string): void {
    this.tailText = (this.tailText + chunk).slice(-this.opts.tailChars);
    let rest = (this.partial.get(label) ?? "") + chunk;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      this.logLine(label, rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
    while (rest.length > MAX_LINE_CHARS) {
      this.logLine(label, rest.slice(0, MAX_LINE_CHARS));
      rest = rest.slice(MAX_LINE_CHARS);
    }
    this.partial.set(label, rest);
  }

  /** Something this server has to say about the process (a failed spawn), kept and logged. */
  note(text: string): void {
    this.write("note", text.endsWith("\n") ? text : `${text}\n`);
  }

  /** The end of what the process printed (and of our notes), at most `tailChars`. */
  get tail(): string {
    return this.tailText;
  }

  private flush(label: string): void {
    const rest = this.partial.get(label);
    if (rest) this.logLine(label, rest);
    this.partial.delete(label);
  }

  private logLine(label: string, line: string): void {
    const { log, logBudgetChars, prefix } = this.opts;
    if (!log || this.overBudget) return;
    const text = line.trimEnd();
    if (!text) return;
    if (this.logged + text.length > logBudgetChars) {
      this.overBudget = true;
      log.info(
        {},
        `${prefix}: more output than ${logBudgetChars} characters; the rest is not logged`,
      );
      return;
    }
    this.logged += text.length;
    log.info({}, `${prefix}[${label}]: ${text}`);
  }
}

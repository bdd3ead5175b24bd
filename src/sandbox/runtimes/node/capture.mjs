/* global Buffer */
// Output capture for the sandbox runner: everything user code prints lands in bounded per-run
// buffers, never on the process's real stdout/stderr (those only reach the server's log).
import { Console } from "node:console";
import { Writable } from "node:stream";
import util from "node:util";

/** Collects stdout/stderr text up to `limit` characters per stream. */
export class OutputCapture {
  /** @param {number} limit */
  constructor(limit) {
    this.limit = limit;
    this.reset();
  }

  reset() {
    this.stdout = "";
    this.stderr = "";
    this.truncated = false;
  }

  /** @param {"stdout" | "stderr"} stream @param {string} text */
  write(stream, text) {
    const room = this.limit - this[stream].length;
    if (text.length > room) {
      this.truncated = true;
      text = text.slice(0, Math.max(0, room));
    }
    this[stream] += text;
  }

  /** Takes what was captured and starts over; output between runs goes to the next one. */
  take() {
    const out = { stdout: this.stdout, stderr: this.stderr, truncated: this.truncated };
    this.reset();
    return out;
  }

  /** A Console whose log/info/debug go to stdout and error/warn/trace to stderr. */
  console() {
    const sink = (stream) =>
      new Writable({
        decodeStrings: false,
        write: (chunk, _enc, done) => {
          this.write(stream, typeof chunk === "string" ? chunk : chunk.toString("utf8"));
          done();
        },
      });
    return new Console({ stdout: sink("stdout"), stderr: sink("stderr"), colorMode: false });
  }

  /**
   * Routes process.stdout/stderr writes, process warnings and errors nobody caught (a throwing
   * timer, a rejected promise nobody awaited) into the capture, so they cannot end the worker.
   */
  install() {
    const route = (stream) => (chunk, encoding, cb) => {
      this.write(stream, typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const done = typeof encoding === "function" ? encoding : cb;
      if (typeof done === "function") process.nextTick(done);
      return true;
    };
    process.stdout.write = route("stdout");
    process.stderr.write = route("stderr");
    process.on("warning", (w) => this.write("stderr", `${w.name}: ${w.message}\n`));
    process.on("uncaughtException", (err) =>
      this.write("stderr", `Uncaught ${describeError(err).stack}\n`),
    );
    process.on("unhandledRejection", (reason) =>
      this.write("stderr", `Unhandled rejection: ${describeError(reason).stack}\n`),
    );
  }
}

/**
 * Message and stack of anything thrown. Errors from the vm context fail `instanceof Error`
 * here (another realm), so look at the shape instead.
 * @param {unknown} err
 */
export function describeError(err) {
  if (err && typeof err === "object" && "message" in err) {
    const name = typeof err.name === "string" ? err.name : "Error";
    const message = String(err.message);
    const stack = typeof err.stack === "string" ? userFrames(err.stack) : `${name}: ${message}`;
    return { message: name === "Error" ? message : `${name}: ${message}`, stack };
  }
  const text = util.inspect(err, { depth: 2 });
  return { message: `Uncaught ${text}`, stack: `Uncaught ${text}` };
}

const RUNNER_DIR = new URL(".", import.meta.url).href;

/** Drops stack frames of the runner and of node's vm plumbing: the user did not write them. */
function userFrames(stack) {
  return stack
    .split("\n")
    .filter((l) => !/^\s+at /.test(l) || !(l.includes(RUNNER_DIR) || /node:(vm|internal)/.test(l)))
    .join("\n");
}

/**
 * The run's result as the API reports it: strings as they are, undefined as "", anything else
 * JSON-encoded (or inspected when JSON cannot represent it), cut at `limit` characters.
 * @param {unknown} value @param {number} limit
 */
export function formatResult(value, limit) {
  let text;
  if (value === undefined) text = "";
  else if (typeof value === "string") text = value;
  else {
    try {
      text = JSON.stringify(value);
    } catch {
      text = undefined;
    }
    text ??= util.inspect(value, { depth: 2, maxStringLength: limit });
  }
  return text.length > limit
    ? { result: text.slice(0, limit), truncated: true }
    : { result: text, truncated: false };
}

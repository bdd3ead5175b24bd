import { AppError } from "./app-error.js";

/** When a client should try again after the database failed it: outages seen are seconds long. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** The system's codes for a connection that could not be made or was lost (pg's socket). */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * Postgres SQLSTATEs that say the server, not the statement, failed: class 08 (connection
 * exception), 53 (insufficient resources: too many connections, out of memory or disk), and
 * 57P01-57P03 (shutting down, crashed, starting up).
 */
const PG_STATE = /^(08...|53...|57P0[123])$/;

/** Errors pg raises without a code when its connection ends or cannot be had in time. */
const PG_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|timeout expired$|Client has encountered a connection error|Client was closed and is not queryable)/;

/**
 * SQLite's codes for a database it cannot write right now: a full disk, a lock held past the
 * busy timeout, an I/O error (extended codes such as SQLITE_IOERR_WRITE included), a file it
 * cannot open or may only read.
 */
const SQLITE_CODE = /^SQLITE_(FULL|BUSY|LOCKED|IOERR|CANTOPEN|READONLY)/;

/**
 * True when err, or an error it wraps (`cause`, or each of an AggregateError's `errors`), says
 * the database could not be reached or could not take the write: a fault of the store, not of
 * the request, which a retry later can get past. The one place both dialects' errors are read.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== "object" || depth > 8) return false;
  const { code, message, cause, errors } = err as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === "string") {
    if (NETWORK_CODES.has(code) || PG_STATE.test(code) || SQLITE_CODE.test(code)) return true;
  }
  if (typeof message === "string" && PG_MESSAGE.test(message)) return true;
  if (Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e, depth + 1))) {
    return true;
  }
  return isDatabaseUnavailable(cause, depth + 1);
}

/** What the client sees instead: 503 with Retry-After; the original kept as cause for logs. */
export function databaseUnavailableError(cause: unknown): AppError {
  return new AppError(
    "DATABASE_UNAVAILABLE",
    `The server's database is unavailable, so this request could not be completed and costs no credits. Try again in ${DATABASE_RETRY_AFTER_SECONDS} seconds.`,
    undefined,
    { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS, cause },
  );
}

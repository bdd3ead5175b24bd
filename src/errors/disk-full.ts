import { AppError } from "./app-error.js";

/** Error codes for a write that found no room: SQLite's own and the system's. */
const FULL_CODES = new Set(["SQLITE_FULL", "ENOSPC"]);

/**
 * True when err, or an error it wraps as its `cause`, says the disk is full. Whatever layer
 * wrapped it (a failed screenshot becomes a failed scrape), the client should hear the real cause.
 */
export function isDiskFull(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && FULL_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** What the client sees instead: a clear code and message, the original kept as cause for logs. */
export function diskFullError(cause: unknown): AppError {
  return new AppError(
    "DISK_FULL",
    "The server's disk is full, so the result could not be stored. Try again once space is freed.",
    undefined,
    // Room comes back when an operator frees it: a guess, but a client needs one to back off.
    { retryAfterSeconds: 30, cause },
  );
}

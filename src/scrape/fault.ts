import { AppError, type ErrorCode } from "../errors/app-error.js";

/**
 * Whose doing a failed scrape was, by its code: the tenant's ("tenant": the site it chose did
 * not answer, or refused, or its options or actions failed on the page) or this server's own
 * ("server"). A scrape that held a slot pays for it when the failure was the tenant's: a page
 * that never answers then costs whoever points scrapes at it. A new code must be placed here.
 */
const FAULT: Record<ErrorCode, "tenant" | "server"> = {
  BAD_REQUEST: "tenant",
  UNAUTHORIZED: "tenant",
  PAYMENT_REQUIRED: "tenant",
  FORBIDDEN: "tenant",
  PRIVATE_ADDRESS_BLOCKED: "tenant",
  NOT_FOUND: "tenant",
  JOB_NOT_FOUND: "tenant",
  SESSION_NOT_FOUND: "tenant",
  SCRAPE_NO_CACHED_DATA: "tenant",
  SCRAPE_LOCKDOWN_CACHE_MISS: "tenant",
  // The page did not finish within the scrape's own timeout (unless marked below).
  SCRAPE_TIMEOUT: "tenant",
  REPLAY_CONTEXT_UNAVAILABLE: "tenant",
  PROFILE_IN_USE: "tenant",
  SESSION_DESTROYED: "tenant",
  PAYLOAD_TOO_LARGE: "tenant",
  // The page the tenant chose is past the size bound, or its conversion past its time or memory.
  SCRAPE_PAGE_TOO_LARGE: "tenant",
  // Refused before it held a slot: never paid for anyway.
  TOO_MANY_SESSIONS: "server",
  TOO_MANY_SCRAPES: "server",
  INTERNAL: "server",
  SCRAPE_DNS_RESOLUTION_ERROR: "tenant",
  SCRAPE_CONNECTION_FAILED: "tenant",
  SCRAPE_SSL_ERROR: "tenant",
  // A download, a blocked host, an unnamed network error, the client hanging up (unless marked).
  SCRAPE_FAILED: "tenant",
  BROWSER_FAILED: "server",
  BROWSER_UNAVAILABLE: "server",
  SANDBOX_UNAVAILABLE: "server",
  SHUTTING_DOWN: "server",
  SESSION_ON_OTHER_NODE: "server",
  DISK_FULL: "server",
  DATABASE_UNAVAILABLE: "server",
  MODEL_NOT_CONFIGURED: "server",
  MODEL_FAILED: "server",
  // Interact's, never a scrape's: placed for completeness.
  TOO_MANY_CALLS: "server",
  TOO_MANY_CONNECTIONS: "server",
  LOW_MEMORY: "server",
};

/** Errors whose code reads as the tenant's but which the server caused (its browser died). */
const marked = new WeakSet<Error>();

/** Marks `err` as the server's failure whatever its code says; returns it. */
export function serverFault<E extends Error>(err: E): E {
  marked.add(err);
  return err;
}

/** Whether a failed scrape failed for a reason of the server's own; anything unexpected is. */
export function isServerFault(err: unknown): boolean {
  if (!(err instanceof AppError)) return true;
  return marked.has(err) || FAULT[err.code] === "server";
}

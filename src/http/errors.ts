import type { ErrorCode } from "../errors/app-error.js";

/** The one place where an error code becomes an HTTP status. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  PAYMENT_REQUIRED: 402,
  FORBIDDEN: 403,
  PRIVATE_ADDRESS_BLOCKED: 403,
  NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  SCRAPE_NO_CACHED_DATA: 404,
  SCRAPE_LOCKDOWN_CACHE_MISS: 404,
  SCRAPE_TIMEOUT: 408,
  REPLAY_CONTEXT_UNAVAILABLE: 409,
  PROFILE_IN_USE: 409,
  SESSION_DESTROYED: 410,
  PAYLOAD_TOO_LARGE: 413,
  // The page is past what this server converts (size, time or memory): a retry would not help,
  // so not a 502, which SDKs retry.
  SCRAPE_PAGE_TOO_LARGE: 422,
  TOO_MANY_SESSIONS: 429,
  TOO_MANY_SCRAPES: 429,
  TOO_MANY_CALLS: 429,
  TOO_MANY_CONNECTIONS: 429,
  INTERNAL: 500,
  // The target site failed, not us: a gateway error, with a code that names the cause.
  SCRAPE_DNS_RESOLUTION_ERROR: 502,
  SCRAPE_CONNECTION_FAILED: 502,
  SCRAPE_SSL_ERROR: 502,
  SCRAPE_FAILED: 502,
  BROWSER_FAILED: 502,
  // The model API failed before the agent acted: nothing changed, a retry is safe.
  MODEL_FAILED: 502,
  BROWSER_UNAVAILABLE: 503,
  SANDBOX_UNAVAILABLE: 503,
  MODEL_NOT_CONFIGURED: 503,
  SHUTTING_DOWN: 503,
  LOW_MEMORY: 503,
  SESSION_ON_OTHER_NODE: 503,
  // The database cannot be reached or cannot take a write: a retry later gets past it.
  DATABASE_UNAVAILABLE: 503,
  // A write failed for lack of space: the server's storage, not the request, is at fault.
  DISK_FULL: 507,
};

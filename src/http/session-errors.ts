import type { ErrorCode } from "../errors/app-error.js";

/**
 * Codes of a request that looks a session up, alive or ended (its state, its recording), besides
 * the not-found code each route names its own way.
 */
export const SESSION_LOOKUP_ERRORS: readonly ErrorCode[] = [
  // The id in the path is not a UUID.
  "BAD_REQUEST",
  "FORBIDDEN",
  "SESSION_ON_OTHER_NODE",
  "DATABASE_UNAVAILABLE",
];

/**
 * Codes of a call on an existing session (interact's and the browser API's alike), besides the
 * not-found code each route names its own way: as a lookup's, and 410 once it has ended.
 */
export const SESSION_ERRORS: readonly ErrorCode[] = [...SESSION_LOOKUP_ERRORS, "SESSION_DESTROYED"];

import type { ErrorCode } from "../errors/app-error.js";

/**
 * Codes of a call on an existing session (interact's and the browser API's alike), besides the
 * not-found code each route names its own way.
 */
export const SESSION_ERRORS: readonly ErrorCode[] = [
  // The id in the path is not a UUID.
  "BAD_REQUEST",
  "FORBIDDEN",
  "SESSION_DESTROYED",
  "SESSION_ON_OTHER_NODE",
  "DATABASE_UNAVAILABLE",
];

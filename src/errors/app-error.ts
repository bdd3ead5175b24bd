import { z } from "zod";

/** Stable codes for every error a client can see. Their HTTP statuses live in http/errors.ts. */
export const ERROR_CODES = [
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "PAYMENT_REQUIRED",
  "FORBIDDEN",
  "PRIVATE_ADDRESS_BLOCKED",
  "NOT_FOUND",
  "JOB_NOT_FOUND",
  "SESSION_NOT_FOUND",
  "SCRAPE_TIMEOUT",
  "REPLAY_CONTEXT_UNAVAILABLE",
  "SESSION_DESTROYED",
  "PAYLOAD_TOO_LARGE",
  "TOO_MANY_SESSIONS",
  "TOO_MANY_SCRAPES",
  "TOO_MANY_CALLS",
  "TOO_MANY_CONNECTIONS",
  "INTERNAL",
  "SCRAPE_DNS_RESOLUTION_ERROR",
  "SCRAPE_CONNECTION_FAILED",
  "SCRAPE_SSL_ERROR",
  "SCRAPE_FAILED",
  "BROWSER_FAILED",
  "BROWSER_UNAVAILABLE",
  "SANDBOX_UNAVAILABLE",
  "SHUTTING_DOWN",
  "SESSION_ON_OTHER_NODE",
  "DISK_FULL",
  "LOW_MEMORY",
  "DATABASE_UNAVAILABLE",
  "MODEL_NOT_CONFIGURED",
  "MODEL_FAILED",
  "PROFILE_IN_USE",
  "SCRAPE_NO_CACHED_DATA",
  "SCRAPE_LOCKDOWN_CACHE_MISS",
  "SCRAPE_PAGE_TOO_LARGE",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The body of every error answer: what the error handler sends and the API document shows. */
export const errorBodySchema = z.object({
  success: z.literal(false),
  code: z.enum(ERROR_CODES).describe("Stable code; the HTTP status follows from it."),
  error: z.string().describe("What went wrong, safe to show; a 5xx never carries internals."),
  details: z
    .unknown()
    .optional()
    .describe("For a 400, each problem as {path, message}; for some others, figures or a reason."),
});

export type ErrorBody = z.infer<typeof errorBodySchema>;

/** What an AppError carries besides its code, message and details. */
export interface AppErrorOptions {
  /** When a retry could succeed; sent as Retry-After. */
  retryAfterSeconds?: number;
  /** The error underneath (Error's standard `cause`): logged for the operator, never sent. */
  cause?: unknown;
}

/** An error meant for the client: its message is safe to show, its code picks the status. */
export class AppError extends Error {
  /** When a retry could succeed; sent as Retry-After. */
  readonly hints: { retryAfterSeconds?: number };

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    { cause, ...hints }: AppErrorOptions = {},
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "AppError";
    this.hints = hints;
  }
}

/** The spec's own wording, kept in one place so every route says it the same way. */
export const MESSAGES = {
  invalidJobId: "Invalid job ID format. Job ID must be a valid UUID.",
  invalidSessionId: "Invalid session ID format. Session ID must be a valid UUID.",
  jobNotFound: "Job not found.",
  forbidden: "Forbidden.",
  replayUnavailable: "Replay context is unavailable for this scrape job. Please rerun the scrape.",
  sessionDestroyed: "Browser session has been destroyed.",
  sessionNotFound: "Browser session not found.",
  tooManySessions: "You have reached the maximum number of active browser sessions.",
  insufficientSessionCredits: "Insufficient credits for a browser session",
  insufficientScrapeCredits: "Insufficient credits to perform this request",
  tooManyScrapes: "Too many scrapes at once for this team.",
  browserFailed: "Failed to execute code in browser session.",
} as const;

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ZodError } from "zod";
import { AppError, type ErrorBody } from "../errors/app-error.js";
import { databaseUnavailableError, isDatabaseUnavailable } from "../errors/database-unavailable.js";
import { diskFullError, isDiskFull } from "../errors/disk-full.js";
import { ERROR_STATUS } from "./errors.js";
import { badRequestFromZod } from "./validate.js";

/** What a client sees for a URL whose path we cannot read, over plain HTTP or an upgrade. */
export const BAD_PATH =
  "Bad Request: the URL's path is malformed (e.g. a broken percent-encoding).";

/** Maps every thrown error to one JSON shape; internals of a 5xx are logged, never sent. */
export function registerErrorHandler(app: FastifyInstance, onError?: (code: string) => void): void {
  app.setErrorHandler((err: FastifyError | AppError | ZodError, req, reply) => {
    // Answered first: `onError?.(sendError(...))` would skip the answer when onError is absent.
    const code = sendError(err, req, reply);
    onError?.(code);
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split("?")[0]!;
    // Firecrawl's v1 API: this server speaks v2, where the same call usually lives.
    const v1 = /^\/v[01]\//.test(path)
      ? ` This server serves Firecrawl's v2 API: try ${path.replace(/^\/v[01]\//, "/v2/")} (see /docs).`
      : "";
    void reply.status(404).send({
      success: false,
      code: "NOT_FOUND",
      error: `Route ${req.method} ${path} not found.${v1}`,
    });
  });
}

/**
 * Fastify's `frameworkErrors` option: errors its router raises before any route runs (a path
 * that does not percent-decode, an overlong parameter) answer in our shape, not in Fastify's.
 */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  sendError(
    err.code === "FST_ERR_BAD_URL" ? new AppError("BAD_REQUEST", BAD_PATH) : err,
    req,
    reply,
  );
}

/** Sends the error in our shape; returns the code it was sent with. */
function sendError(
  err: FastifyError | AppError | ZodError,
  req: FastifyRequest,
  reply: FastifyReply,
): string {
  let status: number;
  let body: ErrorBody;
  // A schema a service parses itself answers like a route's own validation.
  if (err instanceof ZodError) err = badRequestFromZod(err);
  else if (isDiskFull(err)) err = diskFullError(err);
  else if (isDatabaseUnavailable(err)) err = databaseUnavailableError(err);
  if (err instanceof AppError) {
    status = ERROR_STATUS[err.code];
    body = { success: false, code: err.code, error: err.message };
    if (err.details !== undefined) body.details = err.details;
    const retry = err.hints.retryAfterSeconds;
    if (retry !== undefined) void reply.header("retry-after", String(retry));
  } else if (typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500) {
    // Fastify's own client errors: malformed JSON, body too large, wrong content type.
    status = err.statusCode;
    const code = status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST";
    body = { success: false, code, error: status === 413 ? tooLarge(req) : err.message };
  } else {
    status = 500;
    body = { success: false, code: "INTERNAL", error: "Internal server error." };
  }
  if (status >= 500) {
    // A target site failing, or a prompt where no model is set, is the caller's to fix: the
    // answer says so, and the operator has nothing to act on.
    if (CALLERS_FAULTS.has(body.code)) req.log.info({ code: body.code }, body.error);
    else req.log.error(withCause(err), "request failed");
  }
  void reply.status(status).send(body);
  return body.code;
}

/** 5xx answers that are about the caller's target or request, not about this server. */
const CALLERS_FAULTS: ReadonlySet<string> = new Set([
  "SCRAPE_DNS_RESOLUTION_ERROR",
  "SCRAPE_CONNECTION_FAILED",
  "SCRAPE_SSL_ERROR",
  "SCRAPE_FAILED",
  "MODEL_NOT_CONFIGURED",
  "SHUTTING_DOWN",
  "SESSION_ON_OTHER_NODE",
]);

/** A 413's message, with the limit the body went over. */
function tooLarge(req: FastifyRequest): string {
  const limit = req.routeOptions.bodyLimit;
  if (!limit) return "Request body is too large.";
  const mib = limit / (1024 * 1024);
  const shown = Number.isInteger(mib) ? `${mib} MiB` : `${Math.round(limit / 1024)} KiB`;
  return `Request body is too large: the limit is ${shown} (${limit} bytes).`;
}

/**
 * The log fields of a failed request. Pino's error serializer folds an Error `cause` into the
 * message and stack; a cause that is not an Error would be dropped, so it gets a field of its own.
 */
function withCause(err: Error): { err: Error; cause?: unknown } {
  const cause = err.cause;
  return cause === undefined || cause instanceof Error ? { err } : { err, cause };
}

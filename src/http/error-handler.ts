import type { FastifyError, FastifyInstance } from "fastify";
import { ZodError } from "zod";
import { AppError } from "../errors/app-error.js";
import { ERROR_STATUS } from "./errors.js";
import { badRequestFromZod } from "./validate.js";

interface ErrorBody {
  success: false;
  code: string;
  error: string;
  details?: unknown;
}

/** Maps every thrown error to one JSON shape; internals of a 5xx are logged, never sent. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError | ZodError, req, reply) => {
    let status: number;
    let body: ErrorBody;
    // A schema parsed outside parseBody still answers like every other bad request.
    if (err instanceof ZodError) err = badRequestFromZod(err);
    if (err instanceof AppError) {
      status = ERROR_STATUS[err.code];
      body = { success: false, code: err.code, error: err.message };
      if (err.details !== undefined) body.details = err.details;
    } else if (
      typeof err.statusCode === "number" &&
      err.statusCode >= 400 &&
      err.statusCode < 500
    ) {
      // Fastify's own client errors: malformed JSON, body too large, wrong content type.
      status = err.statusCode;
      const code = status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST";
      body = { success: false, code, error: err.message };
    } else {
      status = 500;
      body = { success: false, code: "INTERNAL", error: "Internal server error." };
    }
    if (status >= 500) req.log.error({ err }, "request failed");
    void reply.status(status).send(body);
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({
      success: false,
      code: "NOT_FOUND",
      error: `Route ${req.method} ${req.url.split("?")[0]} not found.`,
    });
  });
}

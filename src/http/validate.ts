import type { z } from "zod";
import { AppError } from "../errors/app-error.js";
import { zodDetails } from "./error-handler.js";

/** Parses a request body with its schema; a mismatch is a 400 listing every problem. */
export function parseBody<S extends z.ZodTypeAny>(schema: S, body: unknown): z.output<S> {
  if (body === undefined || body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new AppError("BAD_REQUEST", "Bad Request: the body must be a JSON object.");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const details = zodDetails(parsed.error);
    const summary = details.map((d) => `${d.path || "body"}: ${d.message}`).join("; ");
    throw new AppError("BAD_REQUEST", `Bad Request: ${summary}`, details);
  }
  return parsed.data;
}

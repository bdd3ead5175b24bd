import type { z, ZodError } from "zod";
import { AppError } from "../errors/app-error.js";

/** A zod failure as the client sees it: a 400 whose `details` list every {path, message}. */
export function badRequestFromZod(err: ZodError): AppError {
  const details = err.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const summary = details.map((d) => `${d.path || "body"}: ${d.message}`).join("; ");
  return new AppError("BAD_REQUEST", `Bad Request: ${summary}`, details);
}

/** Parses a request body with its schema; a mismatch is a 400 listing every problem. */
export function parseBody<S extends z.ZodTypeAny>(schema: S, body: unknown): z.output<S> {
  if (body === undefined || body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new AppError("BAD_REQUEST", "Bad Request: the body must be a JSON object.");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw badRequestFromZod(parsed.error);
  return parsed.data;
}

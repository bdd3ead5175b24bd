import type { FastifySchemaCompiler, FastifySerializerCompiler } from "fastify";
import type { z, ZodError } from "zod";
import { AppError } from "../errors/app-error.js";

/** A zod failure as the client sees it: a 400 whose `details` list every {path, message}. */
export function badRequestFromZod(err: ZodError): AppError {
  const details = err.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const summary = details.map((d) => `${d.path || "body"}: ${d.message}`).join("; ");
  return new AppError("BAD_REQUEST", `Bad Request: ${summary}`, details);
}

const NOT_AN_OBJECT = "Bad Request: the body must be a JSON object.";

/**
 * Fastify's validator for every route's zod schemas (params, querystring, body): the parsed
 * output replaces the input, so handlers get it typed and transformed. A refusal is a 400 in the
 * usual shape: a body that is not a JSON object says so; a path parameter gets its schema's own
 * message (the spec's wording for an id); anything else lists each problem in `details`.
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodTypeAny> =
  ({ schema, httpPart }) =>
  (data: unknown) => {
    // Fastify hands an absent body over as null; a schema with a default may take it as absent.
    const input = httpPart === "body" && data === null ? undefined : data;
    if (
      httpPart === "body" &&
      !isJsonObject(input) &&
      !(input === undefined && schema.isOptional())
    ) {
      return { error: new AppError("BAD_REQUEST", NOT_AN_OBJECT) };
    }
    const parsed = schema.safeParse(input);
    if (parsed.success) return { value: parsed.data };
    if (httpPart === "params") {
      return { error: new AppError("BAD_REQUEST", parsed.error.issues[0]!.message) };
    }
    return { error: badRequestFromZod(parsed.error) };
  };

function isJsonObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Response schemas type each route's answer and are checked in tests (response-check.ts); in
 * production an answer is sent as it is, exactly as Fastify sends one without a schema.
 */
export const serializerCompiler: FastifySerializerCompiler<z.ZodTypeAny> = () => (data) =>
  JSON.stringify(data);

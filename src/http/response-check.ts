import type { FastifyInstance } from "fastify";
import type { z } from "zod";
import { errorBodySchema, type ErrorBody } from "../errors/app-error.js";
import { declaredErrorCodes } from "../openapi/operation.js";
import type { RouteDoc } from "../openapi/route-doc.js";
import { ERROR_STATUS } from "./errors.js";

/**
 * With CHECK_RESPONSES on (the tests run so), every JSON answer of a declared route is held to
 * its contract before it leaves: the schema of its status, with no field the schema does not
 * name; or, for an error, the error shape with a code the route declares and the status the
 * table gives it. An answer off its contract becomes a 500 saying what differs, so the test that
 * saw it fails. Off, nothing is added to a request's path.
 */
export function registerResponseCheck(app: FastifyInstance): void {
  app.addHook("preSerialization", async (req, reply, payload) => {
    const doc = req.routeOptions.config.doc;
    if (!doc) return payload;
    const problem = contractProblem(doc, reply.statusCode, payload);
    if (!problem) return payload;
    const error = `${req.method} ${req.routeOptions.url} answered ${reply.statusCode} off its contract: ${problem}`;
    req.log.error({ answer: payload }, error);
    // Answered here rather than thrown: an error answer that failed would not reach the error
    // handler a second time.
    void reply.status(500);
    return { success: false, code: "INTERNAL", error } satisfies ErrorBody;
  });
}

/** What makes this answer differ from the route's declaration, or undefined when it does not. */
export function contractProblem(
  doc: RouteDoc,
  status: number,
  payload: unknown,
): string | undefined {
  // Checked as the client will read it: dates as strings, undefined fields gone.
  const sent: unknown = JSON.parse(JSON.stringify(payload) ?? "null");
  const declared = status === 200 ? doc.response : doc.otherResponses?.[status];
  if (declared) return declared.schema ? schemaProblem(declared.schema, sent) : undefined;
  if (status < 400) return `no answer with status ${status} is declared`;
  const problem = schemaProblem(errorBodySchema, sent);
  if (problem) return problem;
  const { code } = sent as z.infer<typeof errorBodySchema>;
  if (!declaredErrorCodes(doc).includes(code)) return `code ${code} is not among the route's`;
  if (ERROR_STATUS[code] !== status) return `code ${code} is ${ERROR_STATUS[code]}, not ${status}`;
  return undefined;
}

function schemaProblem(schema: z.ZodTypeAny, sent: unknown): string | undefined {
  const parsed = schema.safeParse(sent);
  if (!parsed.success) {
    return parsed.error.issues
      .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
      .join("; ");
  }
  const stray = strayKeys(sent, parsed.data);
  return stray.length ? `fields the schema does not name: ${stray.join(", ")}` : undefined;
}

/**
 * Keys of the answer that parsing dropped: fields the schema does not name (zod strips them from
 * objects that are neither strict nor passthrough, so a schema would pass them silently).
 */
function strayKeys(sent: unknown, parsed: unknown, at: string[] = []): string[] {
  if (Array.isArray(sent) && Array.isArray(parsed)) {
    return sent.flatMap((v, i) => strayKeys(v, parsed[i], [...at, String(i)]));
  }
  if (!isRecord(sent) || !isRecord(parsed)) return [];
  return Object.keys(sent).flatMap((key) =>
    key in parsed ? strayKeys(sent[key], parsed[key], [...at, key]) : [[...at, key].join(".")],
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

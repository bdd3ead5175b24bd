import { STATUS_CODES } from "node:http";
import type { z } from "zod";
import type { ErrorCode } from "../errors/app-error.js";
import type { CollectedRoute } from "./collect.js";
import { toJsonSchema, type JsonSchema } from "./json-schema.js";
import type { ResponseDoc, RouteDoc } from "./route-doc.js";

/** What the document takes from the HTTP layer, which it may not import. */
export interface DocumentRules {
  /** Code → HTTP status: the one map the error handler answers by. */
  errorStatus: Readonly<Record<ErrorCode, number>>;
}

type Json = Record<string, unknown>;

/** The component every error answer refers to. */
export const ERROR_REF = "#/components/schemas/Error";

/** Fastify's `/a/:id/b` as OpenAPI's `/a/{id}/b` (a wildcard becomes `{wildcard}`). */
export function openApiPath(url: string): string {
  return url.replace(/:(\w+)/g, "{$1}").replace(/\*$/, "{wildcard}");
}

/** One operation of the document, from a route and what it declares. */
export function toOperation(route: CollectedRoute, rules: DocumentRules): Json {
  const doc = route.doc;
  if (!doc) return undocumented(route);
  const parameters = [...pathParameters(route.url, doc.params), ...queryParameters(doc.query)];
  return {
    operationId: doc.operationId,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [...doc.tags],
    ...(parameters.length ? { parameters } : {}),
    ...(doc.body ? { requestBody: requestBody(doc.body) } : {}),
    responses: responses(doc, declaredErrorCodes(doc), rules),
    security: security(doc),
  };
}

/** A route registered without a doc: listed all the same, and marked so a test can catch it. */
function undocumented(route: CollectedRoute): Json {
  return {
    summary: `${route.method} ${route.url}`,
    "x-undocumented": true,
    parameters: pathParameters(route.url),
    responses: { default: { description: "Not documented." } },
  };
}

/** Every `:name` of the path, typed by the route's params schema where it has one. */
function pathParameters(url: string, params?: z.AnyZodObject): Json[] {
  const names = [...url.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  if (url.endsWith("*")) names.push("wildcard");
  const declared = params ? objectProperties(params) : {};
  return names.map((name) => parameter(name, "path", declared[name] ?? { type: "string" }, true));
}

function queryParameters(query?: z.AnyZodObject): Json[] {
  if (!query) return [];
  const required = new Set((toJsonSchema(query).required as string[] | undefined) ?? []);
  return Object.entries(objectProperties(query)).map(([name, schema]) =>
    parameter(name, "query", schema, required.has(name)),
  );
}

/** An object schema's properties, converted as properties (an optional one is just absent). */
function objectProperties(schema: z.AnyZodObject): Record<string, JsonSchema> {
  return (toJsonSchema(schema).properties ?? {}) as Record<string, JsonSchema>;
}

/** A parameter, its schema's description lifted to the parameter where readers look for it. */
function parameter(name: string, where: string, schema: JsonSchema, required: boolean): Json {
  const { description, ...rest } = schema;
  return { name, in: where, required, ...(description ? { description } : {}), schema: rest };
}

/** A body whose schema accepts `undefined` (`.default({})`) may be left out. */
function requestBody(body: z.ZodTypeAny): Json {
  return {
    required: !body.isOptional(),
    content: { "application/json": { schema: toJsonSchema(body) } },
  };
}

/** The codes the route declares plus those every route of its kind can answer. */
export function declaredErrorCodes(doc: RouteDoc): ErrorCode[] {
  const codes = new Set<ErrorCode>(doc.errors);
  if (doc.access !== "public") codes.add("UNAUTHORIZED");
  // Path parameters that can be refused say so themselves: most are any string.
  if (doc.query || doc.body) codes.add("BAD_REQUEST");
  if (doc.body) codes.add("PAYLOAD_TOO_LARGE");
  codes.add("INTERNAL");
  return [...codes];
}

function responses(doc: RouteDoc, codes: ErrorCode[], rules: DocumentRules): Json {
  const out: Json = { "200": response(doc.response) };
  for (const [status, other] of Object.entries(doc.otherResponses ?? {})) {
    out[status] = response(other);
  }
  for (const [status, group] of groupByStatus(codes, rules.errorStatus)) {
    out[String(status)] ??= errorResponse(status, group);
  }
  return sortedByStatus(out);
}

function response({ description, schema, contentTypes }: ResponseDoc): Json {
  const types = contentTypes ?? ["application/json"];
  const media = schema ? { schema: toJsonSchema(schema) } : {};
  return { description, content: Object.fromEntries(types.map((t) => [t, media])) };
}

function groupByStatus(
  codes: ErrorCode[],
  errorStatus: Readonly<Record<ErrorCode, number>>,
): Map<number, ErrorCode[]> {
  const groups = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = errorStatus[code];
    groups.set(status, [...(groups.get(status) ?? []), code]);
  }
  return groups;
}

/** One status's answer: the error shape, with `code` narrowed to the codes that share it. */
function errorResponse(status: number, codes: ErrorCode[]): Json {
  return {
    description: `${STATUS_CODES[status] ?? "Error"}: ${codes.join(", ")}`,
    content: {
      "application/json": {
        schema: {
          allOf: [{ $ref: ERROR_REF }, { properties: { code: { enum: codes } } }],
        },
      },
    },
  };
}

function sortedByStatus(responses: Json): Json {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
}

function security(doc: RouteDoc): Json[] {
  if (doc.access === "metricsToken") return [{ metricsToken: [] }];
  return doc.access === "team" ? [{ bearerAuth: [] }] : [];
}

import type { z } from "zod";
import type { ErrorCode } from "../errors/app-error.js";
import type { Tag } from "./tags.js";

/** One answer of a route, as the document shows it. */
export interface ResponseDoc<S extends z.ZodTypeAny | undefined = z.ZodTypeAny | undefined> {
  description: string;
  /** The body's shape; left out for bodies that are not JSON (HTML, images, Prometheus text). */
  schema?: S;
  /** Media types of the body (default: application/json). */
  contentTypes?: readonly string[];
}

type Schema = z.ZodTypeAny | undefined;
type ObjectSchema = z.AnyZodObject | undefined;

/**
 * One route's contract, declared beside the route itself: the schemas Fastify validates its
 * params, query and body with (handlers get their parsed output, typed), the answers it gives,
 * and what the API document says about it.
 */
export interface RouteDoc<
  P extends ObjectSchema = ObjectSchema,
  Q extends ObjectSchema = ObjectSchema,
  B extends Schema = Schema,
  R extends Schema = Schema,
  O extends Readonly<Record<number, ResponseDoc>> = Readonly<Record<number, ResponseDoc>>,
> {
  /** One line, shown in the reference's list of operations. */
  summary: string;
  description?: string;
  tags: readonly Tag[];
  /** Stable name for generated clients; Firecrawl's own where it has one. */
  operationId: string;
  /**
   * Path parameters (`:name` in the route, `{name}` in the document). A value its schema refuses
   * answers 400 with that schema's message.
   */
  params?: P;
  query?: Q;
  /**
   * The JSON body. It must be a JSON object; a schema that accepts `undefined` (`.default({})`)
   * makes it optional, and the document says so.
   */
  body?: B;
  /** The 200 answer. */
  response: ResponseDoc<R>;
  /** Answers other than 200 that are not in the error shape (an HTML 404, a 503 health report). */
  otherResponses?: O;
  /**
   * Error codes this route answers with, in the `{success: false, code, error}` shape. The
   * document adds those every route of its kind can answer: INTERNAL always, UNAUTHORIZED where
   * a team's key is asked for, BAD_REQUEST and PAYLOAD_TOO_LARGE where there is a body,
   * BAD_REQUEST where there is a query. A route whose path parameters can be refused lists
   * BAD_REQUEST itself.
   */
  errors?: readonly ErrorCode[];
  /**
   * Who may call it: a team's key (`team`, when authentication is on), anyone (`public`), or
   * whoever has METRICS_TOKEN. The auth hook decides on this, on the route the router matched.
   */
  access: "team" | "public" | "metricsToken" | "node";
  /**
   * The session the route names, when it names one: in a cluster the node holding it answers
   * (the route's `param` is its key; `creates` places a new one where there is room).
   */
  session?: { kind: "interact" | "browser"; param?: string; creates?: boolean };
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route's contract and its entry in the API document (src/openapi). */
    doc?: RouteDoc;
  }
}

/** Each answer's schema by HTTP status, as Fastify's `schema.response` takes them. */
type ResponseSchemas<R extends Schema, O extends Readonly<Record<number, ResponseDoc>>> = {
  200: R;
} & { [K in keyof O]: O[K] extends ResponseDoc<infer S> ? S : never };

/**
 * Route options from the route's contract: `app.get(url, routeDoc({...}), handler)`. Fastify
 * validates params, query and body with its schemas (through the zod type provider, so the
 * handler's input and answer are typed by them), and the API document is built from the same
 * declaration.
 */
export function routeDoc<
  P extends ObjectSchema = undefined,
  Q extends ObjectSchema = undefined,
  B extends Schema = undefined,
  R extends Schema = undefined,
  O extends Readonly<Record<number, ResponseDoc>> = Record<never, never>,
>(
  doc: RouteDoc<P, Q, B, R, O>,
): {
  schema: { params: P; querystring: Q; body: B; response: ResponseSchemas<R, O> };
  config: { doc: RouteDoc; access: RouteDoc["access"]; session?: RouteDoc["session"] };
} {
  const response: Record<number, z.ZodTypeAny> = {};
  if (doc.response.schema) response[200] = doc.response.schema;
  for (const [status, other] of Object.entries<ResponseDoc>(doc.otherResponses ?? {})) {
    if (other.schema) response[Number(status)] = other.schema;
  }
  // Only the parts a route has: Fastify compiles a validator for each key present.
  const schema = Object.fromEntries(
    Object.entries({
      params: doc.params,
      querystring: doc.query,
      body: doc.body,
      response: Object.keys(response).length ? response : undefined,
    }).filter(([, part]) => part !== undefined),
  ) as { params: P; querystring: Q; body: B; response: ResponseSchemas<R, O> };
  return {
    schema,
    config: { doc: doc as RouteDoc, access: doc.access, session: doc.session },
  };
}

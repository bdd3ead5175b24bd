import type { z } from "zod";
import type { ErrorCode } from "../errors/app-error.js";
import type { Tag } from "./tags.js";

/** One answer of a route, as the document shows it. */
export interface ResponseDoc {
  description: string;
  /** The body's shape; left out for bodies that are not JSON (HTML, images, Prometheus text). */
  schema?: z.ZodTypeAny;
  /** Media types of the body (default: application/json). */
  contentTypes?: readonly string[];
}

/**
 * What the API document says about one route, declared beside the route itself so that the
 * schemas it names are the very ones the handler validates with.
 */
export interface RouteDoc {
  /** One line, shown in the reference's list of operations. */
  summary: string;
  description?: string;
  tags: readonly Tag[];
  /** Stable name for generated clients; Firecrawl's own where it has one. */
  operationId: string;
  /** Path parameters (`:name` in the route, `{name}` in the document). */
  params?: z.AnyZodObject;
  query?: z.AnyZodObject;
  /** The JSON body, validated by this schema through parseBody. */
  body?: z.ZodTypeAny;
  /** The body may be left out: the handler reads an absent one as `{}`. */
  bodyOptional?: boolean;
  /** The 200 answer. */
  response: ResponseDoc;
  /** Answers other than 200 that are not in the error shape (an HTML 404, a 503 health report). */
  otherResponses?: Readonly<Record<number, ResponseDoc>>;
  /**
   * Error codes this route answers with, in the `{success: false, code, error}` shape. The
   * document adds those every route of its kind can answer: INTERNAL always, UNAUTHORIZED where
   * a team's key is asked for, BAD_REQUEST and PAYLOAD_TOO_LARGE where there is a body.
   */
  errors?: readonly ErrorCode[];
  /**
   * Who may call it: a team's key (`team`, when authentication is on), anyone (`public`), or
   * whoever has METRICS_TOKEN. The auth hook decides on this, on the route the router matched.
   */
  access: "team" | "public" | "metricsToken";
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route's entry in the API document (src/openapi). */
    doc?: RouteDoc;
  }
}

/**
 * Route options carrying the route's API document entry and who may call it:
 * `app.get(url, routeDoc({...}), h)`.
 */
export function routeDoc(doc: RouteDoc): {
  config: { doc: RouteDoc; access: RouteDoc["access"] };
} {
  return { config: { doc, access: doc.access } };
}

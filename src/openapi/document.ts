import { errorBodySchema } from "../errors/app-error.js";
import type { CollectedRoute } from "./collect.js";
import { toJsonSchema } from "./json-schema.js";
import { openApiPath, toOperation, type DocumentRules } from "./operation.js";
import { TAGS } from "./tags.js";

export type { DocumentRules } from "./operation.js";

/** An OpenAPI 3.1 document, as far as this server writes one. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Record<string, unknown>>>;
  [key: string]: unknown;
}

const DESCRIPTION = `Firecrawl's v2 scrape + interact API, served by a self-hosted server.

Every error answers \`{"success": false, "code", "error", "details"?}\`; each operation lists the
codes it can answer, grouped by HTTP status.

Two endpoints are WebSockets rather than HTTP operations, reached through URLs that interact and
browser-session answers hand out: \`cdpUrl\` (\`ws://HOST/cdp/{token}\`) is the Chrome DevTools
Protocol of the session's browser, for Playwright's \`connectOverCDP\` or Puppeteer's
\`connect\`; the live view pages (\`/live/{token}\`) stream the session over
\`/live/{token}/ws\`. Their tokens are the only key they take, and die with the session.`;

const SECURITY_SCHEMES = {
  bearerAuth: {
    type: "http",
    scheme: "bearer",
    description:
      "A team's API key (`fc-...`), sent as `Authorization: Bearer fc-...`. Enforced only when " +
      "the server runs with `USE_DB_AUTHENTICATION=true`; otherwise any key, or none, is accepted " +
      "and every request belongs to one team, as in Firecrawl's self-hosted server.",
  },
  metricsToken: {
    type: "http",
    scheme: "bearer",
    description: "`METRICS_TOKEN`, asked for only when the server is configured with one.",
  },
};

/**
 * The OpenAPI 3.1 document of every route the server registered: each route's own declaration
 * (its zod schemas, response and error codes), the rules the HTTP layer answers by, and nothing
 * written by hand about a route anywhere else.
 */
export function buildDocument(routes: CollectedRoute[], rules: DocumentRules): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  for (const route of listed(routes)) {
    const item = (paths[openApiPath(route.url)] ??= {});
    item[route.method.toLowerCase()] = toOperation(route, rules);
  }
  return {
    openapi: "3.1.0",
    info: { title: "firecrawl-interact-server", version: "v2", description: DESCRIPTION },
    // Relative: the server the document was fetched from.
    servers: [{ url: "/" }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: { Error: toJsonSchema(errorBodySchema) },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

/**
 * Routes the document lists: all but hidden ones (the reference page's own files) and the HEAD
 * twin Fastify adds to every GET.
 */
function listed(routes: CollectedRoute[]): CollectedRoute[] {
  const gets = new Set(routes.filter((r) => r.method === "GET").map((r) => r.url));
  return routes.filter((r) => !r.hidden && !(r.method === "HEAD" && gets.has(r.url)));
}

import type { FastifyInstance, RouteOptions } from "fastify";
import type { RouteDoc } from "./route-doc.js";

/** A registered route as the document needs it. */
export interface CollectedRoute {
  method: string;
  /** Fastify's spelling: `/v2/scrape/:jobId/interact`. */
  url: string;
  doc?: RouteDoc;
  /** Marked `schema: { hide: true }`, as @fastify/swagger-ui marks its own routes. */
  hidden: boolean;
}

/**
 * Records every route as Fastify registers it (onRoute), so the document lists what the server
 * really serves. Call before the routes are registered; the list is complete once the app is ready.
 */
export function collectRoutes(app: FastifyInstance): CollectedRoute[] {
  const routes: CollectedRoute[] = [];
  app.addHook("onRoute", (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true;
    for (const method of methods) {
      routes.push({ method: method.toUpperCase(), url: route.url, doc: route.config?.doc, hidden });
    }
  });
  return routes;
}

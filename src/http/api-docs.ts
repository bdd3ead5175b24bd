import swagger, { type StaticDocumentSpec } from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import fs from "node:fs";
import { collectRoutes } from "../openapi/collect.js";
import { buildDocument, type OpenApiDocument } from "../openapi/document.js";
import { routeDoc } from "../openapi/route-doc.js";
import { PATHS } from "../urls/public-urls.js";
import { registerPublic } from "./auth.js";
import { ERROR_STATUS } from "./errors.js";

const LOGO = new URL("../dashboard/public/logo.svg", import.meta.url);

/**
 * The API document at /v2/openapi.json, built from every route's own declaration, and a readable
 * reference of it at /docs (Swagger UI, its files served from node_modules). Neither asks for a
 * key. Call before the routes are registered, so that every one of them is seen.
 */
export function registerApiDocs(app: FastifyInstance): void {
  const routes = collectRoutes(app);
  // @fastify/swagger takes the object now and serves it lazily; every route is known once the
  // app is ready, and the document is written into the same object then.
  const document = {} as OpenApiDocument;
  app.addHook("onReady", async () => {
    Object.assign(document, buildDocument(routes, { errorStatus: ERROR_STATUS }));
  });
  app.register(swagger, {
    mode: "static",
    specification: { document } as unknown as StaticDocumentSpec,
  });
  registerPublic(app, swaggerUi, {
    routePrefix: PATHS.docs,
    theme: { title: "firecrawl-interact-server API" },
    // The project's own mark, linking to the dashboard, in place of Swagger's.
    logo: { type: "image/svg+xml", content: fs.readFileSync(LOGO), href: "/dashboard" },
    uiConfig: { docExpansion: "list", deepLinking: true, tryItOutEnabled: false },
  });
  app.register(async (scope) => {
    scope.get(
      PATHS.openapi,
      routeDoc({
        operationId: "getOpenApiDocument",
        summary: "This API document",
        description: `OpenAPI 3.1, generated from the schemas that validate each request. A readable reference of it is served at \`${PATHS.docs}\`. No key is needed.`,
        tags: ["Documentation"],
        access: "public",
        response: { description: "The OpenAPI document." },
      }),
      async () => scope.swagger(),
    );
  });
}

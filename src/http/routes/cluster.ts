import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { routeDoc } from "../../openapi/route-doc.js";
import type { Services } from "../../services.js";

/** Where a node asks another for the live details of the sessions it holds. */
export const NODE_SESSIONS_PATH = "/v2/internal/sessions";

const liveDetailsSchema = z.object({
  id: z.string(),
  cdpToken: z.string(),
  viewToken: z.string(),
  controlToken: z.string(),
  lastUsedAt: z.number(),
  busy: z.number(),
  currentUrl: z.string().optional(),
  languages: z.array(z.string()),
  usedPrompt: z.boolean(),
  calls: z.number(),
  ttlMs: z.number(),
});

const detailsDoc = routeDoc({
  access: "node",
  operationId: "nodeSessionDetails",
  summary: "Live details of sessions this node holds (for other nodes only)",
  description:
    "For another node of the cluster building a listing: the tokens, last activity and current " +
    "address of the sessions named that this node holds. Answers only a request carrying a " +
    "node's proof; to anyone else the route does not exist.",
  tags: ["Dashboard"],
  query: z.object({ ids: z.string().max(20_000).describe("Session ids, comma-separated.") }),
  response: {
    description: "The sessions named that live here.",
    schema: z.object({ sessions: z.array(liveDetailsSchema) }),
  },
  // What anyone but a node hears: the route does not exist.
  errors: ["NOT_FOUND"],
});

/** The routes nodes call on each other; hidden from the API document. */
export const clusterRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get(
    NODE_SESSIONS_PATH,
    { ...detailsDoc, schema: { ...detailsDoc.schema, hide: true } },
    async (req) => ({
      sessions: services.sessions.detailsHere(req.query.ids.split(",").filter(Boolean)),
    }),
  );
};

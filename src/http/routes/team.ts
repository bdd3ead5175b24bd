import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { routeDoc } from "../../openapi/route-doc.js";
import type { Services } from "../../services.js";

/** Reported as the balance while nothing is charged (no authentication), as a number SDKs expect. */
const UNMETERED = 99_999_999;

/** The answer, as the SDKs' getCreditUsage() reads it. */
const creditUsageSchema = z.object({
  success: z.literal(true),
  data: z.object({
    remainingCredits: z.number().describe("Credits the team can spend now."),
    reservedCredits: z.number().optional().describe("Credits held by running sessions."),
    metered: z.boolean().describe("false while authentication is off: nothing is charged."),
  }),
});

const creditUsageDoc = routeDoc({
  access: "team",
  operationId: "getCreditUsage",
  summary: "The team's credits",
  tags: ["Team"],
  response: { description: "Remaining and reserved credits.", schema: creditUsageSchema },
  errors: ["DATABASE_UNAVAILABLE"],
});

/** GET /v2/team/credit-usage: the caller's team's credits (the SDK's getCreditUsage). */
export const teamRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get("/v2/team/credit-usage", creditUsageDoc, async (req) => {
    const balance = await services.billing.balance(req.teamId);
    if (!balance)
      return { success: true as const, data: { remainingCredits: UNMETERED, metered: false } };
    return {
      success: true as const,
      data: {
        remainingCredits: balance.available,
        reservedCredits: balance.reserved,
        metered: true,
      },
    };
  });
};

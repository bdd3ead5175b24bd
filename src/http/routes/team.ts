import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { routeDoc } from "../../openapi/route-doc.js";
import type { Services } from "../../services.js";
import { TOKENS_PER_CREDIT } from "../../teams/usage-periods.js";

const billingPeriod = {
  billingPeriodStart: z
    .string()
    .nullable()
    .describe("Start of the billing period; always null: credits here are granted, not a plan."),
  billingPeriodEnd: z.string().nullable().describe("End of the billing period; always null."),
};

/** The answer, as the SDKs' getCreditUsage() reads it. */
const creditUsageSchema = z.object({
  success: z.literal(true),
  data: z.object({
    remainingCredits: z.number().int().describe("Credits the team can spend now."),
    planCredits: z
      .number()
      .int()
      .describe("Credits granted to the team, all told (there are no plans here)."),
    ...billingPeriod,
    reservedCredits: z.number().int().optional().describe("Credits held by running sessions."),
    metered: z.boolean().describe("false while authentication is off: nothing is charged."),
  }),
});

const creditUsageDoc = routeDoc({
  access: "team",
  operationId: "getCreditUsage",
  summary: "The team's credits",
  description:
    "With authentication off nothing is metered: remainingCredits and planCredits are 99999999.",
  tags: ["Team"],
  response: { description: "Remaining, granted and reserved credits.", schema: creditUsageSchema },
  errors: ["DATABASE_UNAVAILABLE"],
});

/** The answer, as the SDKs' getTokenUsage() reads it: Firecrawl's tokens, 15 to a credit. */
const tokenUsageSchema = z.object({
  success: z.literal(true),
  data: z.object({
    remainingTokens: z.number().int().describe("remainingCredits × 15."),
    planTokens: z.number().int().describe("planCredits × 15."),
    ...billingPeriod,
  }),
});

const tokenUsageDoc = routeDoc({
  access: "team",
  operationId: "getTokenUsage",
  summary: "The team's credits, in Firecrawl's tokens",
  description: "The credit usage in tokens, 15 to a credit, as Firecrawl reports them.",
  tags: ["Team"],
  response: { description: "Remaining and granted tokens.", schema: tokenUsageSchema },
  errors: ["DATABASE_UNAVAILABLE"],
});

/**
 * GET /v2/team/credit-usage and /v2/team/token-usage: the caller's team's credits (the SDKs'
 * getCreditUsage and getTokenUsage).
 */
export const teamRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get("/v2/team/credit-usage", creditUsageDoc, async (req) => {
    const c = await services.usage.credits(req.teamId);
    return {
      success: true as const,
      data: {
        remainingCredits: c.remaining,
        planCredits: c.plan,
        billingPeriodStart: null,
        billingPeriodEnd: null,
        ...(c.reserved === undefined ? {} : { reservedCredits: c.reserved }),
        metered: c.metered,
      },
    };
  });

  app.get("/v2/team/token-usage", tokenUsageDoc, async (req) => {
    const c = await services.usage.credits(req.teamId);
    return {
      success: true as const,
      data: {
        remainingTokens: c.remaining * TOKENS_PER_CREDIT,
        planTokens: c.plan * TOKENS_PER_CREDIT,
        billingPeriodStart: null,
        billingPeriodEnd: null,
      },
    };
  });
};

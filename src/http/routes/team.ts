import type { FastifyPluginAsync } from "fastify";
import type { Services } from "../../services.js";

/** Reported as the balance while nothing is charged (no authentication), as a number SDKs expect. */
const UNMETERED = 99_999_999;

/** GET /v2/team/credit-usage: the caller's team's credits (the SDK's getCreditUsage). */
export const teamRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  app.get("/v2/team/credit-usage", async (req) => {
    const balance = await services.billing.balance(req.teamId);
    if (!balance) return { success: true, data: { remainingCredits: UNMETERED, metered: false } };
    return {
      success: true,
      data: {
        remainingCredits: balance.available,
        reservedCredits: balance.reserved,
        metered: true,
      },
    };
  });
};

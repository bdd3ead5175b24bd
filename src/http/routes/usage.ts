import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { documentInput } from "../../openapi/input-schema.js";
import { routeDoc } from "../../openapi/route-doc.js";
import type { Services } from "../../services.js";
import { historyQuery } from "../../teams/usage.js";
import { TIME_RANGES, TOKENS_PER_CREDIT } from "../../teams/usage-periods.js";

const count = (what: string) => z.number().int().nonnegative().describe(what);
const maxConcurrency = count(
  "The team's session limit (its own, else TEAM_MAX_SESSIONS); with authentication off, MAX_BROWSER_SESSIONS.",
);

const concurrencyDoc = routeDoc({
  access: "team",
  operationId: "getConcurrency",
  summary: "What the team runs at once, against its limit",
  description:
    "concurrency counts the team's live sessions (on every node sharing the database) and its " +
    "scrapes holding a slot on the node that answers.",
  tags: ["Team"],
  response: {
    description: "Sessions and scrapes running now, and the team's limit.",
    schema: z.object({
      success: z.literal(true),
      concurrency: count("Live sessions and running scrapes."),
      maxConcurrency,
    }),
  },
  errors: ["DATABASE_UNAVAILABLE"],
});

const queueDoc = routeDoc({
  access: "team",
  operationId: "getQueueStatus",
  summary: "The team's running and waiting work",
  description:
    "Active: the team's live sessions (every node) and scrapes holding a slot; waiting: its " +
    "scrapes waiting for a free slot (MAX_CONCURRENT_SCRAPES). Scrapes are those of the node " +
    "that answers.",
  tags: ["Team"],
  response: {
    description: "Counts, the team's limit and its latest successful scrape.",
    schema: z.object({
      success: z.literal(true),
      jobsInQueue: count("activeJobsInQueue + waitingJobsInQueue."),
      activeJobsInQueue: count("Live sessions and scrapes holding a slot."),
      waitingJobsInQueue: count("Scrapes waiting for a free slot."),
      maxConcurrency,
      mostRecentSuccess: z
        .string()
        .nullable()
        .describe("When the team's newest successful scrape finished (ISO 8601), or null."),
    }),
  },
  errors: ["DATABASE_UNAVAILABLE"],
});

const byApiKey = z
  .string()
  .optional()
  .describe('"true": one period per API key and month (any other value is ignored).');

const creditHistoryQuery = z.object({
  byApiKey,
  timeRange: documentInput(z.string(), z.enum(TIME_RANGES))
    .optional()
    .describe("A rolling window instead of months: the last day by hour, 7 or 30 days by day."),
});

const period = {
  startDate: z.string().describe("ISO 8601; a month's first instant (UTC), or a bin's start."),
  endDate: z.string().nullable().describe("The next month's start; null for the current month."),
  apiKey: z
    .string()
    .optional()
    .describe('With byApiKey: the key\'s name, or its prefix; "Unknown" with no key.'),
};

const creditHistoryDoc = routeDoc({
  access: "team",
  operationId: "getCreditUsageHistorical",
  summary: "Credits the team used, per month or over a rolling window",
  description:
    "From the credits ledger: charges, less what was refunded of them. Every calendar month " +
    "(UTC) of the last 90 days once the team used any (zeros too), or none; with byApiKey, one " +
    "period per key and month it spent in. With timeRange, every bin of the window. Empty while " +
    "authentication is off (nothing is metered).",
  tags: ["Team"],
  query: creditHistoryQuery,
  response: {
    description: "The periods, oldest first.",
    schema: z.object({
      success: z.literal(true),
      window: z
        .object({
          timeRange: z.enum(TIME_RANGES),
          binSize: z.enum(["hour", "day"]),
          startDate: z.string(),
          endDate: z.string(),
        })
        .optional()
        .describe("With timeRange: the window the bins cover."),
      periods: z.array(z.object({ ...period, creditsUsed: count("Credits used.") })),
    }),
  },
  errors: ["DATABASE_UNAVAILABLE"],
});

const tokenHistoryDoc = routeDoc({
  access: "team",
  operationId: "getTokenUsageHistorical",
  summary: "Credits the team used per month, in Firecrawl's tokens",
  description: "The monthly credit usage, in tokens (15 to a credit).",
  tags: ["Team"],
  query: z.object({ byApiKey }),
  response: {
    description: "The periods, oldest first.",
    schema: z.object({
      success: z.literal(true),
      periods: z.array(z.object({ ...period, tokensUsed: count("Credits used × 15.") })),
    }),
  },
  errors: ["DATABASE_UNAVAILABLE"],
});

/**
 * Firecrawl's usage routes: GET /v2/concurrency-check, /v2/team/queue-status and
 * /v2/team/{credit,token}-usage/historical (the SDKs' getConcurrency, getQueueStatus,
 * getCreditUsageHistorical and getTokenUsageHistorical).
 */
export const usageRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  const { usage } = services;

  app.get("/v2/concurrency-check", concurrencyDoc, async (req) => {
    const [{ active }, max] = await Promise.all([
      usage.activity(req.teamId),
      usage.maxConcurrency(req.teamId),
    ]);
    return { success: true as const, concurrency: active, maxConcurrency: max };
  });

  app.get("/v2/team/queue-status", queueDoc, async (req) => {
    const [{ active, waiting }, max, mostRecentSuccess] = await Promise.all([
      usage.activity(req.teamId),
      usage.maxConcurrency(req.teamId),
      usage.mostRecentSuccess(req.teamId),
    ]);
    return {
      success: true as const,
      jobsInQueue: active + waiting,
      activeJobsInQueue: active,
      waitingJobsInQueue: waiting,
      maxConcurrency: max,
      mostRecentSuccess,
    };
  });

  app.get("/v2/team/credit-usage/historical", creditHistoryDoc, async (req) => {
    const history = await usage.history(req.teamId, historyQuery(req.query));
    return { success: true as const, ...history };
  });

  app.get("/v2/team/token-usage/historical", tokenHistoryDoc, async (req) => {
    const { periods } = await usage.history(req.teamId, historyQuery(req.query));
    return {
      success: true as const,
      periods: periods.map(({ creditsUsed, ...p }) => ({
        ...p,
        tokensUsed: creditsUsed * TOKENS_PER_CREDIT,
      })),
    };
  });
};

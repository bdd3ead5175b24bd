import { z } from "zod";
import { MESSAGES } from "../errors/app-error.js";
import { runTimeoutSchema, uuidParam } from "../interact/request.js";
import { profileSchema } from "../profiles/request.js";

/** A browser session's id in a path; refused in the spec's own words. */
export const sessionIdSchema = uuidParam(MESSAGES.invalidSessionId);

/** Telemetry labels the official SDKs and CLI send; no effect here. */
const labels = {
  origin: z.string().max(200).optional().describe("A label the SDKs send; no effect here."),
  integration: z.string().max(200).optional().describe("A label the SDKs send; no effect here."),
};

/** POST /v2/browser: Firecrawl's limits (ttl 30-3600 s, activityTtl 10-3600 s). */
export const createBrowserSchema = z
  .object({
    ttl: z
      .number()
      .int()
      .min(30)
      .max(3600)
      .optional()
      .describe("Seconds the session lives (default SESSION_TTL_SECONDS)."),
    activityTtl: z
      .number()
      .int()
      .min(10)
      .max(3600)
      .optional()
      .describe("Seconds without activity that end it (default SESSION_IDLE_TTL_SECONDS)."),
    streamWebView: z
      .boolean()
      .optional()
      .describe("Recorded and listed; the live view URLs work either way."),
    profile: profileSchema
      .optional()
      .describe("A named, persistent browser state the session starts from and saves back to."),
    ...labels,
  })
  .strict();

/** POST /v2/browser/{id}/execute: code in a language, bash by default as in Firecrawl. */
export const executeBrowserSchema = z
  .object({
    code: z.string().min(1).max(100_000),
    language: z
      .enum(["node", "python", "bash"])
      .default("bash")
      .describe("bash runs agent-browser attached to the session; node and python, Playwright."),
    timeout: runTimeoutSchema,
    ...labels,
  })
  .strict();

/** GET /v2/browser?status= */
export const listBrowsersSchema = z
  .object({ status: z.enum(["active", "destroyed"]).optional() })
  .strict();

/** Where a live session is reached: URLs whose tokens are its only key and die with it. */
const sessionUrls = {
  cdpUrl: z.string().describe("ws(s)://HOST/cdp/{token}: the browser's DevTools Protocol."),
  liveViewUrl: z.string().describe("A read-only live view of the session."),
  interactiveLiveViewUrl: z.string().describe("A live view whose viewers can control the page."),
};

/** POST /v2/browser answer. */
export const browserCreatedSchema = z.object({
  success: z.literal(true),
  id: z.string().uuid(),
  ...sessionUrls,
  expiresAt: z.string().describe("ISO 8601 time at which the session's TTL ends it."),
});

/** One entry of GET /v2/browser, as Firecrawl's SDKs read it. */
export const browserListingSchema = z.object({
  id: z.string().uuid(),
  status: z.enum(["active", "destroyed"]),
  ...sessionUrls,
  streamWebView: z.boolean(),
  createdAt: z.string(),
  lastActivity: z.string(),
});

/** GET /v2/browser answer: the team's sessions, newest first, 100 at most. */
export const browserListSchema = z.object({
  success: z.literal(true),
  sessions: z
    .array(browserListingSchema)
    .describe("URLs are empty strings for sessions that ended: their tokens died with them."),
});

export type BrowserCreated = z.infer<typeof browserCreatedSchema>;
export type BrowserListing = z.infer<typeof browserListingSchema>;
export type BrowserList = z.infer<typeof browserListSchema>;
export type CreateBrowserRequest = z.output<typeof createBrowserSchema>;
export type ExecuteBrowserRequest = z.output<typeof executeBrowserSchema>;

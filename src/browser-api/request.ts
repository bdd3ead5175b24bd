import { z } from "zod";
import { withExample } from "../openapi/examples.js";
import { MESSAGES } from "../errors/app-error.js";
import { runTimeoutSchema, sessionLifetimeFields, uuidParam } from "../interact/request.js";
import { profileNameSchema, profileSchema } from "../profiles/request.js";
import { isKnownCountry } from "../scrape/location.js";

/** A browser session's id in a path; refused in the spec's own words. */
export const sessionIdSchema = uuidParam(MESSAGES.invalidSessionId);

/** Telemetry labels the official SDKs and CLI send; no effect here. */
const labels = {
  origin: z.string().max(200).optional().describe("A label the SDKs send; no effect here."),
  integration: z.string().max(200).optional().describe("A label the SDKs send; no effect here."),
};

/** Firecrawl's words for a country code it does not know. */
const COUNTRY_MESSAGE = "Invalid country code. Use a valid ISO 3166-1 alpha-2 country code.";

/**
 * POST /v2/browser: Firecrawl's fields and limits (ttl 30-3600 s, activityTtl 10-3600 s). As in
 * Firecrawl, keys it does not know are dropped, so a newer client's fields never make a 400.
 */
export const createBrowserSchema = z
  .object({
    ...sessionLifetimeFields,
    streamWebView: z
      .boolean()
      .optional()
      .describe("Recorded and listed; the live view URLs work either way."),
    profile: profileSchema
      .optional()
      .describe("A named, persistent browser state the session starts from and saves back to."),
    blockAds: z
      .boolean()
      .default(true)
      .describe("Block requests to ad and tracker hosts, as a scrape's blockAds."),
    location: z
      .object({
        country: z
          .string()
          .refine((c) => /^[A-Za-z]{2}$/.test(c) && isKnownCountry(c), COUNTRY_MESSAGE)
          .transform((c) => c.toLowerCase()),
      })
      .strict()
      .optional()
      .describe("The browser's locale, languages (Accept-Language) and time zone, as a scrape's."),
    recordSession: z
      .boolean()
      .default(false)
      .describe("Record the session as video, replayed page by page once it ends."),
    zeroDataRetention: z
      .boolean()
      .default(false)
      .describe("Keep nothing of what the session shows: no recording, no saved profile."),
    ...labels,
  })
  .superRefine((r, ctx) => {
    if (r.zeroDataRetention && (r.recordSession || r.profile)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["zeroDataRetention"],
        message: "Recordings and saved profiles are not supported with Zero Data Retention.",
      });
    }
  });

/** POST /v2/browser/{id}/execute: code in a language, bash by default as in Firecrawl. */
export const executeBrowserSchema = z
  .object({
    code: withExample(
      z.string().min(1).max(100_000).describe("Code to run; bash runs agent-browser commands."),
      "agent-browser open https://example.com && agent-browser snapshot -i",
    ),
    language: z
      .enum(["node", "python", "bash"])
      .default("bash")
      .describe("bash runs agent-browser attached to the session; node and python, Playwright."),
    timeout: runTimeoutSchema,
    ...labels,
  })
  .strict();

/** DELETE /v2/browser/profiles/{name}: the name, as a session's `profile` takes it. */
export const profileParamsSchema = z.object({
  name: profileNameSchema.describe("The profile's name, as sessions and scrapes named it."),
});

/** Firecrawl's words for a session's state: running while it lives, then how it ended. */
export const browserStatusSchema = z.object({
  success: z.literal(true),
  id: z.string().uuid(),
  status: z
    .enum(["running", "stopped", "failed"])
    .describe("failed when it died (its browser crashed, its node was lost)."),
  cdpUrl: z.string().describe("Empty once it has ended: its tokens died with it."),
  liveViewUrl: z.string(),
  interactiveLiveViewUrl: z.string(),
  expiresAt: z.string().optional().describe("While it runs: when its TTL ends it."),
  sessionDurationMs: z.number().int().optional().describe("Once ended: how long it lived."),
  creditsBilled: z.number().int().optional().describe("Once ended: what it was billed."),
  error: z.string().optional().describe("Why it failed."),
});

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

/** GET /v2/browser/{id}/replay/{pageId}: the page's number, as Firecrawl takes it. */
export const replayParamsSchema = z.object({
  id: sessionIdSchema.describe("The session's id, from its creation."),
  pageId: z
    .string()
    .regex(/^\d{1,3}$/, "Invalid pageId.")
    .describe("The page's number in the recording, from the replay's `pages`."),
});

/** One page of a recording: a tab on show, or the tab at another address. */
export const replayPageSchema = z.object({
  pageId: z.string().describe('"0", "1", ... in the order the pages came on show.'),
  url: z
    .string()
    .describe("Its HLS playlist: this server's path, absolute on PUBLIC_URL when that is set."),
  pageUrl: z.string().describe("The address the tab showed."),
  startTimeMs: z.number().int().describe("When it came on show, in ms from the session's start."),
  endTimeMs: z.number().int().describe("When it stopped being on show, likewise."),
});

/** GET /v2/browser/{id}/replay answer, as Firecrawl's. */
export const replayListSchema = z.object({
  success: z.literal(true),
  pages: z
    .array(replayPageSchema)
    .describe("Finished pages: all of them once the session has ended."),
  pageCount: z.number().int(),
});

export type ReplayList = z.infer<typeof replayListSchema>;
export type BrowserCreated = z.infer<typeof browserCreatedSchema>;
export type BrowserStatus = z.infer<typeof browserStatusSchema>;
export type BrowserListing = z.infer<typeof browserListingSchema>;
export type BrowserList = z.infer<typeof browserListSchema>;
export type CreateBrowserRequest = z.output<typeof createBrowserSchema>;
export type ExecuteBrowserRequest = z.output<typeof executeBrowserSchema>;

import { z } from "zod";

/** Telemetry labels the official SDKs and CLI send; no effect here. */
const labels = {
  origin: z.string().max(200).optional(),
  integration: z.string().max(200).optional(),
};

/** A named, persistent browser state (Firecrawl's profiles). */
export const profileSchema = z
  .object({
    name: z.string().min(1).max(128),
    saveChanges: z.boolean().default(true),
  })
  .strict();

/** POST /v2/browser: Firecrawl's limits (ttl 30-3600 s, activityTtl 10-3600 s). */
export const createBrowserSchema = z
  .object({
    ttl: z.number().int().min(30).max(3600).optional(),
    activityTtl: z.number().int().min(10).max(3600).optional(),
    streamWebView: z.boolean().optional(),
    profile: profileSchema.optional(),
    ...labels,
  })
  .strict();

/** POST /v2/browser/{id}/execute: code in a language, bash by default as in Firecrawl. */
export const executeBrowserSchema = z
  .object({
    code: z.string().min(1).max(100_000),
    language: z.enum(["node", "python", "bash"]).default("bash"),
    timeout: z.number().int().min(1).max(300).default(30),
    ...labels,
  })
  .strict();

/** GET /v2/browser?status= */
export const listBrowsersSchema = z
  .object({ status: z.enum(["active", "destroyed"]).optional() })
  .strict();

export type CreateBrowserRequest = z.output<typeof createBrowserSchema>;
export type ExecuteBrowserRequest = z.output<typeof executeBrowserSchema>;

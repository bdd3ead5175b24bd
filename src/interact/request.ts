import { z } from "zod";
import { MAX_RUN_SECONDS } from "../deadline/run.js";
import { MESSAGES } from "../errors/app-error.js";
import { withExample } from "../openapi/examples.js";
import { documentInput } from "../openapi/input-schema.js";

/** An id in a path: a UUID in any case, handed on as stored (lower case); refused with `message`. */
export function uuidParam(message: string) {
  return z
    .string()
    .uuid(message)
    .transform((id) => id.toLowerCase());
}

/** A scrape's id in a path; refused in the spec's own words. */
export const jobIdSchema = uuidParam(MESSAGES.invalidJobId);

/** A run's `timeout`, in seconds: interact's and /v2/browser's execute alike. */
export const runTimeoutSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_RUN_SECONDS)
  .default(30)
  .describe("Seconds the run may take.");

/**
 * A new session's lifetimes, in seconds, within Firecrawl's bounds: `ttl` 30-3600 (the longest
 * it lives), `activityTtl` 10-3600 (how long it may sit unused). Absent: the server's defaults.
 */
export const sessionLifetimeFields = {
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
};

const interactFields = z
  .object({
    // Described before .optional(): the document's two variants make each one required.
    code: withExample(
      z
        .string()
        .min(1)
        .max(100_000)
        .describe("Code to run in the session's sandbox. Give this or prompt, not both."),
      "await page.click('text=More information'); await page.title()",
    ).optional(),
    prompt: withExample(
      z
        .string()
        .min(1)
        .max(10_000)
        .describe("A task for the AI agent in natural language. Give this or code, not both."),
      "Open the first article and tell me its author and date",
    ).optional(),
    language: z
      .enum(["node", "python", "bash"])
      .default("node")
      .describe(
        "Language of code: node (Playwright), python (Playwright) or bash (agent-browser).",
      ),
    timeout: runTimeoutSchema,
    ttl: sessionLifetimeFields.ttl.describe(
      "Seconds the session lives, on the call that creates it (default SESSION_TTL_SECONDS); ignored on later calls.",
    ),
    activityTtl: sessionLifetimeFields.activityTtl.describe(
      "Seconds without activity that end it, on the call that creates it (default SESSION_IDLE_TTL_SECONDS); ignored on later calls.",
    ),
    /** Telemetry labels; the official SDKs and CLI send them. No effect here. */
    origin: z.string().max(200).optional().describe("A label the SDKs send; no effect here."),
    integration: z.string().max(200).optional().describe("A label the SDKs send; no effect here."),
  })
  .strict();

/** The two bodies the document shows: code, or a prompt. */
const oneOfCodeOrPrompt = z.union([
  interactFields.omit({ prompt: true }).required({ code: true }),
  interactFields.omit({ code: true }).required({ prompt: true }),
]);

/** POST /v2/scrape/{jobId}/interact body: exactly one of code or prompt. */
export const interactRequestSchema = documentInput(
  interactFields.superRefine((r, ctx) => {
    if ((r.code === undefined) === (r.prompt === undefined)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [],
        message: "Provide exactly one of code or prompt.",
      });
    }
  }),
  oneOfCodeOrPrompt,
);

export type InteractRequest = z.output<typeof interactRequestSchema>;

/** The interact response, every field of the spec plus sessionId and cdpUrl. */
export const interactResponseSchema = z.object({
  success: z.boolean().describe("The code or prompt ran to its end without an error."),
  sessionId: z.string(),
  cdpUrl: z
    .string()
    .describe("ws(s)://HOST/cdp/{token}: the session browser's DevTools Protocol WebSocket."),
  liveViewUrl: z.string().describe("A read-only live view of the session."),
  interactiveLiveViewUrl: z.string().describe("A live view whose viewers can control the page."),
  output: z.string().optional().describe("The agent's answer (prompt only)."),
  stdout: z.string(),
  result: z
    .string()
    .describe("The last expression's value (node, python), stdout (bash), the page (prompt)."),
  stderr: z.string(),
  exitCode: z.number().int().describe("0 on success, 124 when killed at the timeout."),
  killed: z.boolean().describe("The run was stopped at its timeout."),
  error: z.string().optional().describe("What failed, when success is false."),
  truncated: z.boolean().optional().describe("Output was cut to its size limit."),
});

export type InteractResponse = z.infer<typeof interactResponseSchema>;

/** The answer to stopping a session (interact's DELETE and the browser API's). */
export const stopResponseSchema = z.object({
  success: z.literal(true),
  status: z
    .enum(["stopped", "failed"])
    .describe("failed when the session had died (its browser crashed, its node was lost)."),
  sessionDurationMs: z
    .number()
    .int()
    .optional()
    .describe("How long it lived; absent when it had ended before this call."),
  creditsBilled: z
    .number()
    .int()
    .describe("What the session was billed; without authentication, what it would have been."),
});

export type StopResponse = z.infer<typeof stopResponseSchema>;

import { z } from "zod";

/** Path parameter check; the message is the spec's own. */
export const jobIdSchema = z.string().uuid();

/** POST /v2/scrape/{jobId}/interact body: exactly one of code or prompt. */
export const interactRequestSchema = z
  .object({
    code: z.string().min(1).max(100_000).optional(),
    prompt: z.string().min(1).max(10_000).optional(),
    language: z.enum(["node", "python", "bash"]).default("node"),
    timeout: z.number().int().min(1).max(300).default(30),
    /** Telemetry labels; the official SDKs and CLI send them. No effect here. */
    origin: z.string().max(200).optional(),
    integration: z.string().max(200).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if ((r.code === undefined) === (r.prompt === undefined)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [],
        message: "Provide exactly one of code or prompt.",
      });
    }
  });

export type InteractRequest = z.output<typeof interactRequestSchema>;

/** The interact response, every field of the spec plus sessionId and cdpUrl. */
export interface InteractResponse {
  success: boolean;
  sessionId: string;
  cdpUrl: string;
  liveViewUrl: string;
  interactiveLiveViewUrl: string;
  output?: string;
  stdout: string;
  result: string;
  stderr: string;
  exitCode: number;
  killed: boolean;
  error?: string;
  truncated?: boolean;
}

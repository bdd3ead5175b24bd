import { z } from "zod";
import { screenshotViewport } from "./request-formats.js";
import { scriptSyntaxError } from "./script.js";

const selector = z.string().min(1).max(1000);

/** Paper sizes Firecrawl's pdf action names; Playwright knows each by the same name. */
const PAPER_FORMATS = [
  "A0",
  "A1",
  "A2",
  "A3",
  "A4",
  "A5",
  "A6",
  "Letter",
  "Legal",
  "Tabloid",
  "Ledger",
] as const;

export const actionSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("wait"),
      milliseconds: z.number().int().min(1).max(60_000).optional(),
      selector: selector.optional(),
    })
    .strict(),
  z.object({ type: z.literal("click"), selector, all: z.boolean().default(false) }).strict(),
  z.object({ type: z.literal("write"), text: z.string().max(100_000) }).strict(),
  z.object({ type: z.literal("press"), key: z.string().min(1).max(100) }).strict(),
  z
    .object({
      type: z.literal("scroll"),
      direction: z.enum(["up", "down"]).default("down"),
      selector: selector.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal("screenshot"),
      fullPage: z.boolean().default(false),
      quality: z.number().int().min(1).max(100).optional(),
      viewport: screenshotViewport,
    })
    .strict(),
  z.object({ type: z.literal("scrape") }).strict(),
  z
    .object({
      type: z.literal("executeJavascript"),
      script: z
        .string()
        .min(1)
        .max(100_000)
        .superRefine((script, ctx) => {
          const problem = scriptSyntaxError(script);
          if (problem) {
            ctx.addIssue({
              code: z.ZodIssueCode.custom,
              message: `not valid JavaScript: ${problem}`,
            });
          }
        }),
    })
    .strict(),
  z
    .object({
      type: z.literal("pdf"),
      format: z.enum(PAPER_FORMATS).default("Letter"),
      landscape: z.boolean().default(false),
      // Chromium's own bounds for print scaling.
      scale: z.number().min(0.1).max(2).default(1),
    })
    .strict(),
]);

export type Action = z.infer<typeof actionSchema>;

/** The list of actions: at most 50, each checked beyond its own shape. */
export const actionsSchema = z
  .array(actionSchema)
  .max(50)
  .superRefine((actions, ctx) =>
    actions.forEach((a, i) => {
      if (a.type === "wait" && (a.milliseconds === undefined) === (a.selector === undefined)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [i],
          message: "wait needs exactly one of milliseconds or selector",
        });
      }
    }),
  );

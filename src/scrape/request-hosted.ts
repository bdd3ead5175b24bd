import { z } from "zod";
import { documentInput } from "../openapi/input-schema.js";
import { parseWith, typeOf } from "./request-dispatch.js";

/**
 * Options of Firecrawl's scrape that rest on its hosted services (document parsers, PII models,
 * threat scanning, audit export, named profiles). Their shapes are checked as Firecrawl checks
 * them, so a client that sends them is never refused for the shape; what they ask for is then
 * either ignored (docs/scrape.md says why) or refused with a reason when ignoring it would hand
 * back something other than what was asked for.
 */

const pdfParser = z
  .object({
    type: z.literal("pdf"),
    mode: z.enum(["fast", "auto", "ocr"]).optional(),
    maxPages: z.number().int().min(1).max(10_000).optional(),
    pages: z.boolean().optional(),
    /** Firecrawl's old name for `pages`. */
    pageMarkdown: z.boolean().optional(),
    blocks: z.boolean().optional(),
    pageMarkers: z.boolean().optional(),
  })
  .strict();

const PARSERS: Record<string, z.ZodTypeAny> = {
  pdf: pdfParser,
  image: z.object({ type: z.literal("image") }).strict(),
};

/**
 * Which documents Firecrawl parses into markdown. This server has no document parser: the URL is
 * loaded by Chromium whatever the list says, so the entries only need the right shape.
 */
export const parsersSchema = z
  .array(
    documentInput(
      z.unknown().transform((raw, ctx) => {
        const value = typeof raw === "string" ? { type: raw } : raw;
        const type = typeOf(value);
        const schema = typeof type === "string" ? PARSERS[type] : undefined;
        if (!schema) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            message: 'a parser is "pdf", "image", or an object with one of them as its type',
          });
          return z.NEVER;
        }
        return parseWith(schema, value, ctx, String(type)) as { type: "pdf" | "image" };
      }),
      z.union([z.enum(["pdf", "image"]), pdfParser, PARSERS.image!]),
    ),
  )
  .max(10);

const redactPIIOptions = z
  .object({
    mode: z.enum(["accurate", "aggressive", "fast"]).optional(),
    entities: z
      .array(z.enum(["PERSON", "EMAIL", "PHONE", "LOCATION", "FINANCIAL", "SECRET"]))
      .optional(),
    replaceStyle: z.enum(["tag", "mask", "remove"]).optional(),
  })
  .strict();

/**
 * Asking for redaction is refused: without Firecrawl's models the content would come back with
 * the personal data still in it, which is worse than an error. `false` asks for nothing.
 */
const refuseRedaction = z.unknown().transform((v, ctx): false => {
  if (v === false) return false;
  // A malformed value is named as such rather than refused for what it asks.
  const isObject = typeof v === "object" && v !== null && !Array.isArray(v);
  if (v !== true && !isObject) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: "expected a boolean or an object" });
    return z.NEVER;
  }
  if (isObject && parseWith(redactPIIOptions, v, ctx) === z.NEVER) return z.NEVER;
  ctx.addIssue({
    code: z.ZodIssueCode.custom,
    message:
      "PII redaction needs Firecrawl's hosted redaction models, which this server does not " +
      "have; the content would come back unredacted.",
  });
  return z.NEVER;
});

/** `redactPII`: only `false` is accepted (see refuseRedaction for why). */
export const redactPIISchema = documentInput(
  refuseRedaction,
  z
    .literal(false)
    .describe(
      "Only false. PII redaction (true, or {mode, entities, replaceStyle}) needs Firecrawl's " +
        "hosted models and is refused with a 400: the content would come back unredacted.",
    ),
);

const domainList = z.array(z.string().max(253)).max(1000).optional();

/** The shape of Firecrawl's threat-protection override, as Firecrawl checks it. */
const threatProtectionShape = z
  .object({
    mode: z.enum(["off", "manual-only", "normal", "zscaler"]).optional(),
    riskScoreThreshold: z.number().int().min(0).max(100).optional(),
    blacklist: domainList,
    whitelist: domainList,
    blockedTlds: domainList,
    failurePolicy: z.enum(["open", "closed"]).optional(),
  })
  .strict();

/** What the document shows as accepted: the same shape without the values that ask for a block. */
const acceptedThreatProtection = threatProtectionShape
  .extend({
    mode: z.enum(["off", "manual-only"]).optional(),
    blacklist: z.array(z.string().max(253)).max(0).optional(),
    blockedTlds: z.array(z.string().max(253)).max(0).optional(),
  })
  .describe(
    "Accepted with no effect: this server scans nothing. Asking for a block (mode normal or " +
      "zscaler, a blacklist, blocked TLDs) is refused with a 400, as it could not be enforced.",
  );

const refuseBlocks = threatProtectionShape.superRefine((t, ctx) => {
  const asked = [
    t.mode === "normal" || t.mode === "zscaler" ? `mode "${t.mode}"` : undefined,
    t.blacklist?.length ? "a blacklist" : undefined,
    t.blockedTlds?.length ? "blocked TLDs" : undefined,
  ].filter((a) => a !== undefined);
  if (asked.length === 0) return;
  ctx.addIssue({
    code: z.ZodIssueCode.custom,
    message:
      "this server does no threat scanning and keeps no block lists, so it cannot enforce " +
      `${asked.join(" or ")}.`,
  });
});

/**
 * A per-request override of a team's threat-protection policy. This server scans nothing and has
 * no block lists, so an override that only relaxes or leaves out scanning changes nothing, and
 * one that asks for a block is refused rather than silently not enforced.
 */
export const threatProtectionSchema = documentInput(refuseBlocks, acceptedThreatProtection);

/** Who a request is on behalf of, for Firecrawl's audit log export; kept nowhere here. */
export const auditMetadataSchema = z.object({ username: z.string().min(1).max(256) }).strict();

/** A named browser profile (cookies and storage kept between scrapes). */
export { profileSchema } from "../profiles/request.js";

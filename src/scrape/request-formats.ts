import { z } from "zod";
import { documentInput } from "../openapi/input-schema.js";
import { parseWith, typeOf } from "./request-dispatch.js";

/** The viewport a screenshot may ask for, in CSS pixels. */
export const screenshotViewport = z
  .object({
    width: z.number().int().min(1).max(7680),
    height: z.number().int().min(1).max(4320),
  })
  .strict()
  .optional();

const screenshotFormat = z
  .object({
    type: z.literal("screenshot"),
    fullPage: z.boolean().default(false),
    quality: z.number().int().min(1).max(100).optional(),
    viewport: screenshotViewport,
  })
  .strict();

const PAGE_FORMATS = ["markdown", "html", "rawHtml", "links", "images"] as const;

/** The formats this server produces, each as its object spelling. */
const SERVED: Record<string, z.ZodTypeAny> = {
  ...Object.fromEntries(
    PAGE_FORMATS.map((name) => [name, z.object({ type: z.literal(name) }).strict()]),
  ),
  screenshot: screenshotFormat,
};

export type Format = { type: (typeof PAGE_FORMATS)[number] } | z.output<typeof screenshotFormat>;

const needsLlm = (name: string) =>
  `The "${name}" format needs an LLM, which this server does not offer for scrape formats.`;

/**
 * Formats Firecrawl offers that this server cannot produce, with why. Any spelling the SDK allows
 * for them is refused with this reason, never with a generic schema error.
 */
const REFUSED_FORMATS: Record<string, (name: string) => string> = {
  json: needsLlm,
  summary: needsLlm,
  question: needsLlm,
  highlights: needsLlm,
  query: needsLlm,
  branding: needsLlm,
  changeTracking: (name) =>
    `The "${name}" format compares the page with Firecrawl's record of earlier scrapes (and ` +
    "needs an LLM for its json mode); this server keeps no such record.",
  attributes: (name) =>
    `The "${name}" format is not available on this server; an executeJavascript action can ` +
    "return attribute values instead.",
  product: (name) =>
    `The "${name}" format is not available on this server; an executeJavascript action can ` +
    "read the page's structured data (JSON-LD) instead.",
  menu: (name) =>
    `The "${name}" format needs Firecrawl's hosted menu-extraction service, which this server ` +
    "does not have.",
  audio: (name) =>
    `The "${name}" format needs Firecrawl's hosted media service to download and convert the ` +
    "page's media, which this server does not have.",
  video: (name) =>
    `The "${name}" format needs Firecrawl's hosted media service to download and convert the ` +
    "page's media, which this server does not have.",
};

const KNOWN = [...Object.keys(SERVED), ...Object.keys(REFUSED_FORMATS)];

/** Turns the string spellings into the object one; other values are left for the checks below. */
function asObject(raw: unknown): unknown {
  if (raw === "screenshot@fullPage") return { type: "screenshot", fullPage: true };
  return typeof raw === "string" ? { type: raw } : raw;
}

/** What an entry of `formats` accepts, as the API document shows it: the served formats only. */
const acceptedFormat = z
  .union([
    z.enum([...PAGE_FORMATS, "screenshot", "screenshot@fullPage"]),
    ...(Object.values(SERVED) as [z.ZodTypeAny, ...z.ZodTypeAny[]]),
  ])
  .describe(
    "A format by name, or as an object with its options. Firecrawl's other formats " +
      `(${Object.keys(REFUSED_FORMATS).join(", ")}) are refused with a 400 saying why.`,
  );

/**
 * One entry of `formats`: a name ("markdown", "screenshot@fullPage") or an object with a type.
 * Dispatched by hand rather than with a zod union, so that every failure names the format and
 * says what is wrong with it instead of zod's bare "Invalid input".
 */
const dispatchFormat = z.unknown().transform((raw, ctx): Format => {
  const value = asObject(raw);
  const type = typeOf(value);
  if (typeof type !== "string") {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: 'a format is a name such as "markdown" or an object with a "type"',
    });
    return z.NEVER;
  }
  const refused = REFUSED_FORMATS[type];
  if (refused) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: refused(type) });
    return z.NEVER;
  }
  const schema = SERVED[type];
  if (!schema) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `unknown format ${JSON.stringify(type)}; formats are ${KNOWN.join(", ")}`,
    });
    return z.NEVER;
  }
  return parseWith(schema, value, ctx, type) as Format;
});

/** One entry of `formats`, validated by hand and documented as what it accepts. */
export const formatSchema = documentInput(dispatchFormat, acceptedFormat);

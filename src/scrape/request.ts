import { z } from "zod";
import { isKnownCountry } from "./location.js";
import { scriptSyntaxError } from "./script.js";

const LLM_FORMATS = [
  "json",
  "summary",
  "changeTracking",
  "branding",
  "attributes",
  "query",
] as const;

/** The viewport a screenshot may ask for, in CSS pixels. */
const screenshotViewport = z
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

const simpleFormat = z.enum(["markdown", "html", "rawHtml", "links", "images", "screenshot"]);

/** A format named by string or as {type}; objects other than screenshot carry no options here. */
const format = z.union([
  simpleFormat,
  z.object({ type: simpleFormat.exclude(["screenshot"]) }).strict(),
  screenshotFormat,
  z.enum(["screenshot@fullPage"]),
  z
    .union([z.enum(LLM_FORMATS), z.object({ type: z.enum(LLM_FORMATS) }).passthrough()])
    .transform((f, ctx) => {
      const name = typeof f === "string" ? f : f.type;
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `The "${name}" format needs an LLM, and no model provider is configured on this server.`,
      });
      return z.NEVER;
    }),
]);

const selector = z.string().min(1).max(1000);

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
]);

export type Action = z.infer<typeof actionSchema>;

/** Headers the browser owns: setting them would break the connection, so they are refused. */
const RESERVED_HEADERS = new Set([
  "host",
  "content-length",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-authorization",
  "proxy-connection",
]);

const headerName = z
  .string()
  .refine(
    (h) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h),
    (h) => ({
      // Quoted, so an empty name or one with CR/LF still shows in the message.
      message: `${JSON.stringify(h)} is not a valid header name (an HTTP token)`,
    }),
  )
  .refine((h) => !RESERVED_HEADERS.has(h.toLowerCase()), "this header is set by the browser");

/**
 * A header value may hold any text but control characters (HTAB aside, as RFC 9110 allows):
 * CR or LF would end the header early and NUL cuts it, so the browser would fail the whole load
 * or send another header than the one asked for.
 */
const headerValue = z
  .string()
  .max(8192)
  .refine(
    (v) => ![...v].some((c) => (c < " " && c !== "\t") || c === "\u007f"),
    "a header value must not contain CR, LF, NUL or other control characters",
  );

/** Accepts what Firecrawl accepts (a bare host gets http://) and allows only http and https. */
function normalizeUrl(u: string): URL | string {
  let parsed: URL;
  try {
    parsed = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? u : `http://${u}`);
  } catch {
    return "not a valid URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return "only http and https URLs can be scraped";
  }
  if (!parsed.hostname) return "the URL has no host";
  return parsed;
}

/** POST /v2/scrape body. Unknown keys are refused so a typo never silently does nothing. */
export const scrapeRequestSchema = z
  .object({
    url: z
      .string()
      .trim()
      .min(1)
      .max(8192)
      .superRefine((u, ctx) => {
        const result = normalizeUrl(u);
        if (typeof result === "string") {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: result });
        }
      }),
    formats: z.array(format).max(20).default(["markdown"]),
    onlyMainContent: z.boolean().default(true),
    includeTags: z.array(selector).max(100).optional(),
    excludeTags: z.array(selector).max(100).optional(),
    headers: z.record(headerName, headerValue).optional(),
    waitFor: z.number().int().min(0).max(60_000).default(0),
    timeout: z.number().int().min(1_000).max(300_000).default(30_000),
    mobile: z.boolean().default(false),
    actions: z
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
      )
      .optional(),
    location: z
      .object({
        country: z
          .string()
          .regex(/^[A-Za-z]{2}$/, "must be an ISO 3166-1 alpha-2 country code")
          .transform((c) => c.toUpperCase())
          .refine(isKnownCountry, "unknown country code")
          .default("US"),
        languages: z
          .array(z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/))
          .max(10)
          .optional(),
      })
      .strict()
      .optional(),
    skipTlsVerification: z.boolean().default(true),
    removeBase64Images: z.boolean().default(true),
    blockAds: z.boolean().default(true),
    zeroDataRetention: z.boolean().default(false),
    maxAge: z.number().int().min(0).default(172_800_000),
    storeInCache: z.boolean().default(true),
    proxy: z.enum(["basic", "auto"]).optional(),
    parsers: z.array(z.unknown()).max(0, "parsers are not supported by this server").optional(),
    /** Telemetry label the official SDKs add to every request. */
    origin: z.string().max(200).optional(),
    integration: z.string().max(200).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.waitFor > r.timeout / 2) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["waitFor"],
        message: "waitFor must not exceed half of timeout",
      });
    }
  })
  // `url` becomes the normalized target; `sourceURL` keeps what the client sent, for metadata.
  .transform(({ url, ...rest }) => {
    const target = normalizeUrl(url);
    return { ...rest, url: typeof target === "string" ? url : target.href, sourceURL: url };
  });

export type ScrapeRequest = z.output<typeof scrapeRequestSchema>;

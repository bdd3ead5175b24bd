import { z } from "zod";
import { withExample } from "../openapi/examples.js";
import { isKnownCountry } from "./location.js";
import { actionsSchema } from "./request-actions.js";
import { formatSchema } from "./request-formats.js";
import {
  auditMetadataSchema,
  parsersSchema,
  profileSchema,
  redactPIISchema,
  threatProtectionSchema,
} from "./request-hosted.js";
import { CACHE_RETENTION_MS } from "./scrape-cache.js";

export { actionSchema, type Action } from "./request-actions.js";
export type { Format } from "./request-formats.js";

/** Fields Firecrawl acts on through services this server does not have (docs/scrape.md). */
const NO_EFFECT = "Accepted with no effect here: it needs one of Firecrawl's hosted services.";

/** Firecrawl's default for how old a cached result may be. */
const DEFAULT_MAX_AGE_MS = 172_800_000;

const selector = z.string().min(1).max(1000);

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
  // "htp:/oops", "http:/host", "https:host": a scheme with its slashes mistyped, which would
  // otherwise be taken for a host name ("htp") and fail later as a DNS error.
  const typo = /^([a-z][a-z0-9+.-]*):(?!\/\/)(.*)$/i.exec(u);
  if (typo && !/^\d+(?:[/?#]|$)/.test(typo[2]!)) {
    const scheme = typo[1]!.toLowerCase();
    return scheme === "http" || scheme === "https"
      ? `the URL's scheme is mistyped: write ${scheme}:// (two slashes) before the host`
      : `"${typo[1]}:" is not a scheme this server scrapes (a typo?): write http:// or https:// before the host`;
  }
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

/**
 * POST /v2/scrape body: every field of Firecrawl's v2 scrape (the official SDK's ScrapeOptions),
 * whether this server acts on it or not (docs/scrape.md has the table). Unknown keys are refused
 * so a typo never silently does nothing.
 */
export const scrapeRequestSchema = z
  .object({
    url: withExample(
      z
        .string()
        .trim()
        .min(1)
        .max(8192)
        .superRefine((u, ctx) => {
          const result = normalizeUrl(u);
          if (typeof result === "string") {
            ctx.addIssue({ code: z.ZodIssueCode.custom, message: result });
          }
        })
        .describe("The page to scrape: http or https (a bare host gets http://)."),
      "https://example.com",
    ),
    formats: z.array(formatSchema).max(20).default(["markdown"]).describe("What to return."),
    onlyMainContent: z.boolean().default(true).describe("Drop navigation, headers, footers."),
    includeTags: z.array(selector).max(100).optional().describe("CSS selectors to keep only."),
    excludeTags: z.array(selector).max(100).optional().describe("CSS selectors to remove."),
    headers: z
      .record(headerName, headerValue)
      .optional()
      .describe("Sent with every request the page makes; headers the browser owns are refused."),
    waitFor: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .default(0)
      .describe("Extra milliseconds after load; at most half of timeout."),
    timeout: z
      .number()
      .int()
      .min(1_000)
      .max(300_000)
      .default(30_000)
      .describe("Milliseconds for the whole scrape, waiting for a free slot included."),
    mobile: z.boolean().default(false).describe("Mobile viewport, touch and user agent."),
    actions: actionsSchema
      .optional()
      .describe("Run in order after load; a wait takes exactly one of milliseconds or selector."),
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
      .optional()
      .describe("Emulated as locale, time zone, navigator.languages and Accept-Language."),
    skipTlsVerification: z.boolean().default(true),
    removeBase64Images: z.boolean().default(true),
    blockAds: z.boolean().default(true),
    zeroDataRetention: z.boolean().default(false),
    /** Defaults below: longer under lockdown, as in Firecrawl. */
    maxAge: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Milliseconds a cached result may be old (default 2 days; 0: never the cache)."),
    /** Set: only the cache is read, for an entry at least this old. */
    minAge: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Only the cache answers, with a result at least this old; none is a 404."),
    storeInCache: z.boolean().default(true),
    /** Only the cache is read and nothing is kept: the site is never contacted. */
    lockdown: z
      .boolean()
      .default(false)
      .describe("Only the cache answers and the site is never contacted; none is a 404."),
    /** Every value loads directly: there is no proxy pool here, so `proxyUsed` stays "basic". */
    proxy: z.string().max(100).optional().describe(NO_EFFECT),
    // Hints and labels that change nothing here; docs/scrape.md says why for each.
    fastMode: z.boolean().optional().describe(NO_EFFECT),
    useMock: z.string().max(200).optional().describe(NO_EFFECT),
    domainTools: z.boolean().optional().describe(NO_EFFECT),
    toolDetail: z.enum(["compact", "summary", "full"]).optional().describe(NO_EFFECT),
    parsers: parsersSchema.optional().describe(NO_EFFECT),
    auditMetadata: auditMetadataSchema.optional().describe(NO_EFFECT),
    redactPII: redactPIISchema.optional(),
    threatProtection: threatProtectionSchema.optional(),
    /** A named browser profile the scrape starts from (and, as its writer, saves back to). */
    profile: profileSchema
      .optional()
      .describe("A named, persistent browser state the scrape starts from and saves back to."),
    /** Telemetry labels the official SDKs add to every request. */
    origin: z.string().max(200).optional().describe("A label the SDKs send; no effect here."),
    integration: z.string().max(200).optional().describe("A label the SDKs send; no effect here."),
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
  .transform(({ url, maxAge, ...rest }) => {
    const target = normalizeUrl(url);
    return {
      ...rest,
      // Lockdown is for pages scraped before: any entry still kept qualifies unless told otherwise.
      maxAge: maxAge ?? (rest.lockdown ? CACHE_RETENTION_MS : DEFAULT_MAX_AGE_MS),
      url: typeof target === "string" ? url : target.href,
      sourceURL: url,
    };
  });

export type ScrapeRequest = z.output<typeof scrapeRequestSchema>;

import { describe, expect, it } from "vitest";
import { cacheKey } from "./cache-key.js";
import { scrapeRequestSchema } from "./request.js";

const URL_ = "https://example.com/page";

/** The key of a request body, as the scrape service computes it for team "t". */
const key = (body: Record<string, unknown>, opts: { team?: string; privateOk?: boolean } = {}) =>
  cacheKey(
    opts.team ?? "t",
    scrapeRequestSchema.parse({ url: URL_, ...body }),
    opts.privateOk ?? true,
  );

describe("cacheKey", () => {
  it("is the same for the same request, and short enough for an index", () => {
    expect(key({})).toBe(key({}));
    expect(key({})).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("ignores what only decides whether a scrape succeeds or how it is kept", () => {
    const base = key({});
    expect(key({ timeout: 5_000 })).toBe(base);
    expect(key({ maxAge: 0 })).toBe(base);
    expect(key({ storeInCache: false })).toBe(base);
    expect(key({ zeroDataRetention: true })).toBe(base);
    expect(key({ origin: "js-sdk@4", integration: "cli" })).toBe(base);
  });

  it("counts formats by meaning, not by spelling or order", () => {
    expect(key({ formats: ["markdown", "links"] })).toBe(key({ formats: ["links", "markdown"] }));
    expect(key({ formats: ["markdown"] })).toBe(key({}));
    expect(key({ formats: [{ type: "html" }] })).toBe(key({ formats: ["html"] }));
    expect(key({ formats: ["markdown", "markdown"] })).toBe(key({ formats: ["markdown"] }));
    expect(key({ formats: ["screenshot"] })).toBe(key({ formats: [{ type: "screenshot" }] }));
    expect(key({ formats: ["screenshot@fullPage"] })).toBe(
      key({ formats: [{ type: "screenshot", fullPage: true }] }),
    );
  });

  it("treats header names case-insensitively and in any order", () => {
    expect(key({ headers: { "X-A": "1", "X-B": "2" } })).toBe(
      key({ headers: { "x-b": "2", "x-a": "1" } }),
    );
    expect(key({ headers: { "X-A": "1" } })).not.toBe(key({ headers: { "X-A": "2" } }));
    expect(key({ headers: {} })).toBe(key({}));
  });

  it("is the same for a bare host and its http:// URL, which load the same page", () => {
    const bare = cacheKey("t", scrapeRequestSchema.parse({ url: "example.com" }), true);
    expect(bare).toBe(
      cacheKey("t", scrapeRequestSchema.parse({ url: "http://example.com/" }), true),
    );
  });

  it("differs for every option that changes what a scrape returns", () => {
    const variants: Record<string, string> = {
      base: key({}),
      otherTeam: key({}, { team: "u" }),
      privateRefused: key({}, { privateOk: false }),
      otherUrl: cacheKey("t", scrapeRequestSchema.parse({ url: `${URL_}?q=1` }), true),
      https: cacheKey("t", scrapeRequestSchema.parse({ url: URL_.replace("https", "http") }), true),
      formats: key({ formats: ["html"] }),
      moreFormats: key({ formats: ["markdown", "html"] }),
      screenshot: key({ formats: ["markdown", "screenshot"] }),
      fullPage: key({ formats: ["markdown", "screenshot@fullPage"] }),
      quality: key({ formats: ["markdown", { type: "screenshot", quality: 50 }] }),
      viewport: key({
        formats: ["markdown", { type: "screenshot", viewport: { width: 800, height: 600 } }],
      }),
      onlyMainContent: key({ onlyMainContent: false }),
      includeTags: key({ includeTags: ["main"] }),
      excludeTags: key({ excludeTags: ["nav"] }),
      headers: key({ headers: { "X-A": "1" } }),
      waitFor: key({ waitFor: 1000 }),
      mobile: key({ mobile: true }),
      actions: key({ actions: [{ type: "click", selector: "#b" }] }),
      otherActions: key({ actions: [{ type: "click", selector: "#c" }] }),
      location: key({ location: { country: "DE" } }),
      languages: key({ location: { country: "DE", languages: ["en-GB"] } }),
      skipTlsVerification: key({ skipTlsVerification: false }),
      removeBase64Images: key({ removeBase64Images: false }),
      blockAds: key({ blockAds: false }),
    };
    const seen = new Map<string, string>();
    for (const [name, k] of Object.entries(variants)) {
      expect(seen.get(k), `${name} has the key of ${seen.get(k)}`).toBeUndefined();
      seen.set(k, name);
    }
  });
});

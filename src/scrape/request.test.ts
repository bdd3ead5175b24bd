import { describe, expect, it } from "vitest";
import { CACHE_RETENTION_MS } from "./scrape-cache.js";
import { scrapeRequestSchema } from "./request.js";

const url = "https://example.com/";

/** Every {path, message} a body fails with, or [] when it parses. */
function problems(body: Record<string, unknown>): { path: string; message: string }[] {
  const r = scrapeRequestSchema.safeParse({ url, ...body });
  return r.success
    ? []
    : r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}

const parse = (body: Record<string, unknown>) => scrapeRequestSchema.parse({ url, ...body });

describe("scrapeRequestSchema: formats", () => {
  it("turns every spelling into one object per entry", () => {
    expect(
      parse({
        formats: ["markdown", { type: "links" }, "screenshot@fullPage", { type: "screenshot" }],
      }).formats,
    ).toEqual([
      { type: "markdown" },
      { type: "links" },
      { type: "screenshot", fullPage: true },
      { type: "screenshot", fullPage: false },
    ]);
    expect(parse({}).formats).toEqual([{ type: "markdown" }]);
  });

  it("refuses a format it cannot serve with its reason, in any spelling the SDK allows", () => {
    const spellings: unknown[] = [
      "json",
      { type: "json" },
      { type: "json", prompt: "p", schema: { type: "object" }, checkPromptInjection: true },
    ];
    for (const f of spellings) {
      expect(problems({ formats: ["markdown", f] })).toEqual([
        {
          path: "formats.1",
          message:
            'The "json" format needs an LLM, which this server does not offer for scrape formats.',
        },
      ]);
    }
    expect(problems({ formats: [{ type: "question", question: "why?" }] })[0]?.message).toMatch(
      /^The "question" format needs an LLM/,
    );
    expect(problems({ formats: ["audio"] })[0]?.message).toMatch(
      /^The "audio" format needs Firecrawl's hosted media service/,
    );
  });

  it("names an unknown format, a bad field and a value that is no format at all", () => {
    expect(problems({ formats: ["pdf"] })).toEqual([
      { path: "formats.0", message: expect.stringMatching(/^unknown format "pdf"; formats are /) },
    ]);
    expect(problems({ formats: [{ type: "screenshot", quality: 101 }] })).toEqual([
      { path: "formats.0.quality", message: expect.stringMatching(/^screenshot: /) },
    ]);
    expect(problems({ formats: [{ type: "html", colour: 1 }] })[0]?.message).toContain("colour");
    expect(problems({ formats: [42] })[0]).toMatchObject({ path: "formats.0" });
    for (const p of [
      ...problems({ formats: ["nope"] }),
      ...problems({ formats: [{ type: 1 }] }),
      ...problems({ formats: [null] }),
    ]) {
      expect(p.message).not.toBe("Invalid input");
    }
  });
});

describe("scrapeRequestSchema: Firecrawl's other options", () => {
  it("takes hints and labels that change nothing here", () => {
    expect(
      problems({
        fastMode: true,
        useMock: "fixture",
        domainTools: true,
        toolDetail: "full",
        auditMetadata: { username: "alice" },
        parsers: ["pdf", "image", { type: "pdf", mode: "ocr", maxPages: 3, pages: true }],
        proxy: "stealth",
        redactPII: false,
        threatProtection: { mode: "off", whitelist: ["example.com"] },
      }),
    ).toEqual([]);
    expect(problems({ proxy: "enhanced" })).toEqual([]);
    expect(problems({ proxy: "some-future-pool" })).toEqual([]);
  });

  it("checks the shape of what it ignores", () => {
    expect(problems({ parsers: ["docx"] })[0]?.path).toBe("parsers.0");
    expect(problems({ parsers: [{ type: "pdf", mood: "x" }] })[0]?.path).toBe("parsers.0");
    expect(problems({ toolDetail: "everything" })[0]?.path).toBe("toolDetail");
    expect(problems({ auditMetadata: {} })[0]?.path).toBe("auditMetadata.username");
  });

  it("refuses what it would otherwise silently not do", () => {
    expect(problems({ redactPII: true })).toEqual([
      { path: "redactPII", message: expect.stringContaining("would come back unredacted") },
    ]);
    expect(problems({ redactPII: { mode: "fast" } })[0]?.path).toBe("redactPII");
    expect(problems({ threatProtection: { mode: "normal" } })[0]?.message).toContain(
      'cannot enforce mode "normal"',
    );
    expect(problems({ threatProtection: { blacklist: ["evil.example"] } })[0]?.message).toContain(
      "a blacklist",
    );
  });

  it("keeps a profile for the scrape service to open", () => {
    expect(parse({ profile: { name: "work" } }).profile).toEqual({
      name: "work",
      saveChanges: true,
    });
    expect(problems({ profile: { name: "" } })[0]?.path).toBe("profile.name");
    expect(problems({ profile: { name: "x".repeat(129) } })[0]?.path).toBe("profile.name");
    for (const name of ["a\u001b[2J", "two\nlines", "tab\there", "c1\u009b", "rtl\u202e"]) {
      expect(problems({ profile: { name } })[0], name).toEqual({
        path: "profile.name",
        message: expect.stringContaining("control characters"),
      });
    }
    expect(parse({ profile: { name: "Café 日本 👩‍💻" } }).profile?.name).toBe("Café 日本 👩‍💻");
    expect(problems({ profile: { name: "a", saveChanges: "yes" } })[0]?.path).toBe(
      "profile.saveChanges",
    );
  });

  it("defaults maxAge to two days, and to anything still cached under lockdown", () => {
    expect(parse({}).maxAge).toBe(172_800_000);
    expect(parse({ lockdown: true }).maxAge).toBe(CACHE_RETENTION_MS);
    expect(parse({ lockdown: true, maxAge: 5 }).maxAge).toBe(5);
    expect(parse({ minAge: 1 }).minAge).toBe(1);
  });

  it("takes the pdf action with Firecrawl's defaults", () => {
    expect(parse({ actions: [{ type: "pdf" }] }).actions).toEqual([
      { type: "pdf", format: "Letter", landscape: false, scale: 1 },
    ]);
    expect(problems({ actions: [{ type: "pdf", scale: 3 }] })[0]?.path).toBe("actions.0.scale");
  });

  it("still refuses a key Firecrawl does not have, naming it", () => {
    expect(problems({ fastmode: true })).toEqual([
      { path: "", message: "Unrecognized key(s) in object: 'fastmode'" },
    ]);
  });
});

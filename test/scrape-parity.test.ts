import { fileURLToPath } from "node:url";
import Firecrawl from "@mendable/firecrawl-js";
import ts from "typescript";
import { describe, expect, test } from "vitest";
import type { Config } from "../src/config/config.js";
import { AppError } from "../src/errors/app-error.js";
import type { FileStore } from "../src/files/file-store.js";
import { scrapeRequestSchema } from "../src/scrape/request.js";
import { ScrapeService, type ScrapeServiceDeps } from "../src/scrape/service.js";
import type { ProfileService } from "../src/profiles/service.js";
import type { Store } from "../src/store/repositories.js";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { postJson, type TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";

/**
 * The request types of the official JS SDK are the list of what Firecrawl accepts: every field
 * they name must be known here, so a field the SDK adds later fails this file, not a client.
 */
const SDK_TYPES = fileURLToPath(
  new URL("../node_modules/@mendable/firecrawl-js/dist/index.d.ts", import.meta.url),
);

/** The SDK's declarations, read with the TypeScript compiler. */
function readSdk() {
  const program = ts.createProgram([SDK_TYPES], {
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(SDK_TYPES);
  if (!file) throw new Error(`cannot read ${SDK_TYPES}`);

  const declared = (name: string): ts.Type => {
    const decl = file.statements.find(
      (s): s is ts.InterfaceDeclaration | ts.TypeAliasDeclaration =>
        (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) && s.name.text === name,
    );
    if (!decl) throw new Error(`the SDK no longer declares ${name}`);
    return checker.getDeclaredTypeOfSymbol(checker.getSymbolAtLocation(decl.name)!);
  };
  const present = (t: ts.Type) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null));
  const members = (t: ts.Type) => (t.isUnion() ? t.types.filter(present) : [t]);
  const fromSdk = (t: ts.Type) =>
    (t.getSymbol()?.declarations ?? []).some((d) => d.getSourceFile() === file);
  const literals = (t: ts.Type) =>
    members(t)
      .filter((m) => m.isStringLiteral())
      .map((m) => (m as ts.StringLiteralType).value);
  /** The `type` literals of an object type ("markdown", "html", ... for the generic Format). */
  const typeNames = (t: ts.Type) => {
    const prop = t.getProperty("type");
    return prop ? literals(checker.getTypeOfSymbol(prop)) : [];
  };

  /**
   * A value of type t as the SDK would send it: every property (`full`) or the required ones.
   * Unions take an object member the SDK declares when there is one, so its fields are covered;
   * arrays hold one value of each member. Opaque types (JSON schemas, zod) become {}.
   */
  const sample = (t: ts.Type, full: boolean): unknown => {
    if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return {};
    if (t.isStringLiteral() || t.isNumberLiteral()) return t.value;
    if (t.flags & ts.TypeFlags.BooleanLiteral) return checker.typeToString(t) === "true";
    if (t.flags & ts.TypeFlags.Boolean) return true;
    if (t.flags & ts.TypeFlags.String) return "x";
    if (t.flags & ts.TypeFlags.Number) return 1;
    if (t.isUnion()) {
      const options = members(t);
      const pick = options.find((m) => m.flags & ts.TypeFlags.Object && fromSdk(m)) ?? options[0]!;
      return sample(pick, full);
    }
    if (checker.isArrayType(t)) {
      const element = checker.getTypeArguments(t as ts.TypeReference)[0]!;
      const each = element.flags & ts.TypeFlags.Boolean ? [element] : members(element);
      return each.map((m) => sample(m, full));
    }
    if (t.flags & ts.TypeFlags.Object) {
      if (!fromSdk(t)) return {};
      const out: Record<string, unknown> = {};
      for (const p of checker.getPropertiesOfType(t)) {
        if (full || !(p.flags & ts.SymbolFlags.Optional)) {
          out[p.name] = sample(checker.getTypeOfSymbol(p), full);
        }
      }
      return out;
    }
    throw new Error(`no sample for ${checker.typeToString(t)}`);
  };

  const scrapeOptions = declared("ScrapeOptions");
  const formatMembers = members(declared("FormatOption"));
  const actionMembers = members(declared("ActionOption"));
  return {
    scrapeOptions: checker.getPropertiesOfType(scrapeOptions).map((p) => ({
      name: p.name,
      type: checker.getTypeOfSymbol(p),
    })),
    /** Every format name, from the string spellings and from each object's `type`. */
    formatNames: [
      ...new Set(formatMembers.flatMap((m) => (m.isStringLiteral() ? [m.value] : typeNames(m)))),
    ],
    formatObjects: formatMembers.filter((m) => m.flags & ts.TypeFlags.Object),
    actions: actionMembers.map((m) => ({ name: typeNames(m)[0]!, type: m })),
    typeNames,
    sample,
    describeType: (t: ts.Type) => checker.typeToString(t),
  };
}

const sdk = readSdk();
const url = "https://example.com/";

/** The problems a body has, as zod reports them. */
function issues(body: Record<string, unknown>) {
  const r = scrapeRequestSchema.safeParse({ url, ...body });
  return r.success ? [] : r.error.issues;
}

/** Problems that mean a field or sub-field is not known here, or an unexplained refusal. */
function unknownField(body: Record<string, unknown>) {
  return issues(body)
    .filter((i) => i.code === "unrecognized_keys" || i.message === "Invalid input")
    .map((i) => `${i.path.join(".")}: ${i.message}`);
}

/**
 * A valid, meaningful value for every field of the SDK's ScrapeOptions. A field the SDK gains
 * fails the first test until it is added here, and so until this server knows it.
 */
const SAMPLES: Record<string, unknown> = {
  formats: ["markdown", { type: "screenshot", fullPage: true }],
  headers: { "X-Test": "1" },
  includeTags: ["main"],
  excludeTags: ["nav"],
  onlyMainContent: true,
  timeout: 30_000,
  waitFor: 0,
  mobile: false,
  parsers: ["pdf", "image", { type: "pdf", mode: "auto", maxPages: 5 }, { type: "image" }],
  actions: [
    { type: "wait", milliseconds: 10 },
    { type: "pdf", format: "A4" },
  ],
  location: { country: "US", languages: ["en-US"] },
  skipTlsVerification: true,
  removeBase64Images: true,
  fastMode: true,
  useMock: "fixture",
  blockAds: true,
  proxy: "stealth",
  maxAge: 0,
  minAge: 1,
  storeInCache: true,
  lockdown: false,
  redactPII: false,
  threatProtection: { mode: "off" },
  auditMetadata: { username: "ops" },
  profile: { name: "work", saveChanges: false },
  integration: "parity-test",
  origin: "js-sdk@4.42.0",
  domainTools: false,
  toolDetail: "summary",
};

describe("every request field of the official SDK is known to scrapeRequestSchema", () => {
  test("the sample table covers exactly the SDK's ScrapeOptions", () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(sdk.scrapeOptions.map((p) => p.name).sort());
  });

  test("each ScrapeOptions field is accepted with a meaningful value", () => {
    for (const [name, value] of Object.entries(SAMPLES)) {
      expect(issues({ [name]: value }), name).toEqual([]);
    }
  });

  test("each field and sub-field the SDK's types name is known, with any value the type allows", () => {
    for (const { name, type } of sdk.scrapeOptions) {
      for (const full of [true, false]) {
        const value = sdk.sample(type, full);
        expect(unknownField({ [name]: value }), `${name} = ${JSON.stringify(value)}`).toEqual([]);
      }
    }
  });

  test("each format the SDK names is served or refused with a reason naming it", () => {
    expect(sdk.formatNames.length).toBeGreaterThan(10);
    const spellings = [
      ...sdk.formatNames.flatMap((name) => [
        { name, value: name },
        { name, value: { type: name } },
      ]),
      ...sdk.formatObjects.flatMap((t) =>
        sdk.typeNames(t).flatMap((name) =>
          [true, false].map((full) => ({
            name,
            value: { ...(sdk.sample(t, full) as object), type: name },
          })),
        ),
      ),
    ];
    for (const { name, value } of spellings) {
      const label = JSON.stringify(value);
      for (const issue of issues({ formats: [value] })) {
        expect(issue.message, label).toContain(`"${name}"`);
        // Refused for a reason of its own, not for being unheard of.
        expect(issue.message, label).not.toMatch(/^unknown format/);
        expect(issue.path, label).toEqual(["formats", 0]);
      }
    }
  });

  test("each action the SDK names is accepted, with every field its type has", () => {
    expect(sdk.actions.map((a) => a.name)).toContain("pdf");
    for (const { name, type } of sdk.actions) {
      const minimal = sdk.sample(type, false) as Record<string, unknown>;
      const problems = issues({ actions: [minimal] });
      // Only a wait needs one of its optional fields; its message names it.
      for (const p of problems) expect(p.message, name).toContain(name);
      expect(unknownField({ actions: [sdk.sample(type, true)] }), name).toEqual([]);
    }
  });

  test("a key the SDK does not have is still refused, naming it", () => {
    expect(issues({ fastmode: true })).toMatchObject([
      { code: "unrecognized_keys", keys: ["fastmode"] },
    ]);
  });
});

test("a profile another writer holds is refused before anything is charged", async () => {
  const charged: string[] = [];
  const deps = {
    config: { maxConcurrentScrapes: 1, teamMaxScrapes: 5 } as Config,
    store: { cache: {} } as Store,
    files: {} as FileStore,
    browser: {} as ScrapeServiceDeps["browser"],
    credits: {
      chargeScrape: async (team: string) => void charged.push(team),
      refundScrape: async () => {},
    },
    profiles: {
      open: async () => {
        throw new AppError("PROFILE_IN_USE", 'Profile "work" is being written by another session.');
      },
    } as unknown as ProfileService,
  };
  const service = new ScrapeService(deps);
  const req = scrapeRequestSchema.parse({ url, profile: { name: "work" } });
  const refused = service.scrape("team", req, {
    signal: new AbortController().signal,
    baseUrl: "http://localhost",
  });
  await expect(refused).rejects.toBeInstanceOf(AppError);
  await expect(refused).rejects.toMatchObject({ code: "PROFILE_IN_USE" });
  expect(charged).toEqual([]);
});

describe("over HTTP", () => {
  let server: TestServer;
  let site: FixtureSite;
  useServerAndSite((s) => ({ server, site } = s));

  const scrape = (body: unknown) => postJson(`${server.url}/v2/scrape`, body);
  const loads = (query: string) =>
    site.requests.filter((r) => r.path === "/" && r.query === query).length;

  test("Firecrawl's hints and hosted-service options are taken and change nothing", async () => {
    const res = await scrape({
      url: `${site.url}/?c=hints`,
      formats: ["markdown"],
      fastMode: true,
      proxy: "stealth",
      lockdown: false,
      redactPII: false,
      parsers: ["pdf", { type: "pdf", mode: "fast", maxPages: 2 }],
      threatProtection: { mode: "off" },
      auditMetadata: { username: "ops" },
      domainTools: false,
      toolDetail: "compact",
      origin: "js-sdk@4.42.0",
    });
    expect(res.status).toBe(200);
    expect(res.body.data.markdown).toContain("# Hello fixture");
    // No proxy pool here: the page was loaded directly, and the answer says so.
    expect(res.body.data.metadata.proxyUsed).toBe("basic");
  });

  test("minAge answers only from the cache, with a result at least that old", async () => {
    const target = `${site.url}/?c=minage`;
    const miss = await scrape({ url: target, minAge: 1 });
    expect(miss.status).toBe(404);
    expect(miss.body).toMatchObject({ success: false, code: "SCRAPE_NO_CACHED_DATA" });
    expect(miss.body.error).toContain("minAge");
    expect(loads("c=minage")).toBe(0);

    const first = await scrape({ url: target });
    expect(first.body.data.metadata.cacheState).toBe("miss");
    expect((await scrape({ url: target, minAge: 3_600_000 })).status).toBe(404);
    const hit = await scrape({ url: target, minAge: 1 });
    expect(hit.status).toBe(200);
    expect(hit.body.data.metadata.cacheState).toBe("hit");
    expect(hit.body.data.markdown).toBe(first.body.data.markdown);
    expect(loads("c=minage")).toBe(1);
  });

  test("lockdown never contacts the site and keeps nothing", async () => {
    const target = `${site.url}/?c=lockdown`;
    const miss = await scrape({ url: target, lockdown: true });
    expect(miss.status).toBe(404);
    expect(miss.body.code).toBe("SCRAPE_LOCKDOWN_CACHE_MISS");
    expect(miss.body.error).toContain("lockdown");
    expect(loads("c=lockdown")).toBe(0);

    await scrape({ url: target });
    const hit = await scrape({ url: target, lockdown: true });
    expect(hit.status).toBe(200);
    expect(hit.body.data.metadata.cacheState).toBe("hit");
    expect(loads("c=lockdown")).toBe(1);
    const record = await server.services.store.scrapes.get(hit.body.data.metadata.scrapeId);
    expect(record).toMatchObject({ zeroDataRetention: true, replayContext: null });
  });

  test("the pdf action prints the page to a PDF served by this server", async () => {
    const res = await scrape({
      url: `${site.url}/?c=pdf`,
      actions: [{ type: "pdf" }, { type: "pdf", format: "A4", landscape: true, scale: 0.5 }],
    });
    expect(res.status).toBe(200);
    const { pdfs } = res.body.data.actions;
    expect(pdfs).toHaveLength(2);
    const pages: number[][] = [];
    for (const link of pdfs) {
      expect(link).toMatch(new RegExp(`^${server.url}/v2/files/[A-Za-z0-9_-]+\\.pdf$`));
      const file = await fetch(link);
      expect(file.headers.get("content-type")).toBe("application/pdf");
      const text = Buffer.from(await file.arrayBuffer()).toString("latin1");
      expect(text.slice(0, 4)).toBe("%PDF");
      const box = /\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/.exec(text);
      pages.push([Number(box?.[1]), Number(box?.[2])]);
    }
    // Letter upright by default (in points); A4 on its side when asked.
    expect(pages[0]).toEqual([612, 792]);
    expect(pages[1]![0]).toBeCloseTo(842, -1);
    expect(pages[1]![1]).toBeCloseTo(595, -1);

    // Nothing kept: the PDF comes inline.
    const zdr = await scrape({
      url: `${site.url}/?c=pdf`,
      zeroDataRetention: true,
      actions: [{ type: "pdf" }],
    });
    const inline: string = zdr.body.data.actions.pdfs[0];
    expect(inline).toMatch(/^data:application\/pdf;base64,/);
    expect(Buffer.from(inline.split(",")[1]!, "base64").subarray(0, 4).toString("latin1")).toBe(
      "%PDF",
    );
  });

  test("formats this server cannot produce are a 400 that names them and says why", async () => {
    const served = ["markdown", "html", "rawHtml", "links", "images", "screenshot"];
    const refused = sdk.formatNames.filter((f) => !served.includes(f));
    expect(refused).toEqual(expect.arrayContaining(["json", "summary", "product", "audio"]));
    for (const name of refused) {
      const res = await scrape({ url: `${site.url}/`, formats: ["markdown", { type: name }] });
      expect(res.status, name).toBe(400);
      expect(res.body.code, name).toBe("BAD_REQUEST");
      expect(res.body.error, name).toContain(`"${name}"`);
      expect(res.body.error, name).not.toContain("Invalid input");
    }
    const json = await scrape({ url: `${site.url}/`, formats: [{ type: "json", prompt: "x" }] });
    expect(json.body.error).toContain(
      'The "json" format needs an LLM, which this server does not offer for scrape formats.',
    );
  });

  test("an unknown key is still a 400 naming it", async () => {
    const typo = await scrape({ url: `${site.url}/`, fastmode: true });
    expect(typo.status).toBe(400);
    expect(typo.body.error).toContain("fastmode");
  });

  test("the official SDK's Firecrawl-only options go through", async () => {
    const client = new Firecrawl({ apiUrl: server.url });
    const doc = await client.scrape(`${site.url}/?c=sdk`, {
      formats: ["markdown"],
      fastMode: true,
      proxy: "stealth",
      parsers: ["pdf"],
      lockdown: false,
      redactPII: false,
      maxAge: 0,
      actions: [{ type: "pdf", format: "A4" }],
    });
    expect(doc.markdown).toContain("# Hello fixture");
    expect(doc.metadata?.proxyUsed).toBe("basic");
    const pdfs = (doc.actions as { pdfs: string[] }).pdfs;
    expect(pdfs[0]).toMatch(/\.pdf$/);
  });
});

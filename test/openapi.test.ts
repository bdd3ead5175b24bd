import fs from "node:fs";
import { randomUUID } from "node:crypto";
import type { RouteOptions } from "fastify";
import { beforeAll, describe, expect, test } from "vitest";
import { buildApp } from "../src/app.js";
import type { FixtureSite } from "./helpers/fixture-site.js";
import {
  bodySchema,
  compile,
  operations,
  refsIn,
  resolvePointer,
  shapelessSchemas,
  templated,
} from "./helpers/openapi-doc.js";
import { postJson, type TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";

/**
 * Request bodies for POST /v2/scrape as documentation shows them. The spec in seed/ has none of
 * its own (its scrape examples are on other pages); these are the README's quick start, its SDK
 * example as the SDK sends it, and the shapes docs/scrape.md spells out for its options.
 */
const SCRAPE_EXAMPLES: Record<string, Record<string, unknown>> = {
  "README: quick start curl": { url: "https://example.com" },
  "README: SDK scrape": { url: "https://example.com", formats: ["markdown"] },
  "docs/scrape.md: screenshot formats": {
    url: "https://example.com",
    formats: [
      "markdown",
      "screenshot@fullPage",
      { type: "screenshot", fullPage: true, quality: 80, viewport: { width: 1280, height: 800 } },
    ],
  },
  "docs/scrape.md: options accepted with no effect": {
    url: "https://example.com",
    proxy: "stealth",
    fastMode: true,
    parsers: ["pdf", { type: "pdf", mode: "fast", maxPages: 2 }, { type: "image" }],
    redactPII: false,
    threatProtection: { mode: "off", whitelist: ["example.com"] },
    auditMetadata: { username: "alice" },
  },
  "docs/scrape.md: location and actions": {
    url: "https://example.com",
    location: { country: "de", languages: ["de-DE"] },
    actions: [
      { type: "wait", milliseconds: 100 },
      { type: "scroll", direction: "down" },
    ],
  },
};

/**
 * Request bodies for POST /v2/scrape/{jobId}/interact: the two examples of
 * seed/interact-endpoint.en.md ("Example Request (Code)" and "(Prompt)"; the Japanese page has
 * the same two), then the README's quick start and SDK example.
 */
const INTERACT_EXAMPLES: Record<string, Record<string, unknown>> = {
  "spec: Example Request (Code)": {
    code: "const title = await page.title(); JSON.stringify({ title });",
    language: "node",
    timeout: 30,
  },
  "spec: Example Request (Prompt)": {
    prompt: "Find the pricing section and tell me the price of the Pro plan",
    timeout: 60,
  },
  "README: quick start curl": {
    code: "const title = await page.title(); JSON.stringify({ title });",
  },
  "README: SDK interact": { code: "await page.title()" },
};

/** Bodies the server refuses with a 400; the document must refuse them too. */
const BAD_SCRAPES: Record<string, unknown> = {
  "unknown key": { url: "https://example.com", formatz: ["markdown"] },
  "wrong type": { url: 42 },
  "no url": { formats: ["markdown"] },
  "a format refused with a reason": { url: "https://example.com", formats: ["json"] },
  "a format object refused with a reason": {
    url: "https://example.com",
    formats: [{ type: "json", prompt: "the price" }],
  },
  "redaction asked for": { url: "https://example.com", redactPII: true },
  "a threat block asked for": { url: "https://example.com", threatProtection: { mode: "normal" } },
};

const BAD_INTERACTS: Record<string, unknown> = {
  "unknown key": { code: "1", lang: "node" },
  "wrong type": { code: 1 },
  "both code and prompt": { code: "1", prompt: "the title" },
  "neither code nor prompt": { language: "node" },
  "unknown language": { code: "1", language: "ruby" },
  "timeout out of range": { code: "1", timeout: 301 },
};

const INTERACT = "/v2/scrape/{jobId}/interact";

let server: TestServer;
let site: FixtureSite;
let doc: any;

useServerAndSite((s) => ({ server, site } = s));
beforeAll(async () => {
  const res = await fetch(`${server.url}/v2/openapi.json`);
  expect(res.status).toBe(200);
  doc = await res.json();
});

test("the document is OpenAPI 3.1: info, paths, responses on every operation, every $ref resolves", () => {
  expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
  expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
  expect(Object.keys(doc.paths).length).toBeGreaterThan(10);
  const ids = new Set<string>();
  for (const { path, method, op } of operations(doc)) {
    const where = `${method.toUpperCase()} ${path}`;
    expect(path, where).toMatch(/^\//);
    expect(Object.keys(op.responses ?? {}).length, where).toBeGreaterThan(0);
    for (const r of Object.values<any>(op.responses)) expect(r.description, where).toBeTruthy();
    // Path templates and declared path parameters match one to one.
    const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    const declared = (op.parameters ?? []).filter((p: any) => p.in === "path");
    expect(declared.map((p: any) => p.name).sort(), where).toEqual(inPath);
    expect(ids.has(op.operationId), `${where}: duplicate operationId`).toBe(false);
    ids.add(op.operationId);
    for (const scheme of (op.security ?? []).flatMap(Object.keys)) {
      expect(doc.components.securitySchemes[scheme], where).toBeDefined();
    }
  }
  const refs = refsIn(doc);
  expect(refs.length).toBeGreaterThan(0);
  for (const { ref, at } of refs) expect(resolvePointer(doc, ref), `${ref} at ${at}`).toBeDefined();
});

test("every route the app registers is in the document with its method, and documented", async () => {
  // The routes as Fastify reports them: a second app on the same services, with an onRoute hook
  // added before its plugins load (routes are registered when the app gets ready).
  const registered: { method: string; url: string }[] = [];
  const app = buildApp(server.services.config, server.services);
  app.addHook("onRoute", (r: RouteOptions) => {
    for (const m of [r.method].flat()) registered.push({ method: m.toLowerCase(), url: r.url });
  });
  await app.ready();
  await app.close();

  // Left out on purpose: the HEAD twin Fastify adds to every GET, the reference page's own
  // files under /docs (its HTML, script, styles and a copy of this document at /docs/json), and
  // the dashboard's static scripts and styles under /dashboard/ (the page at / is listed), and
  // what nodes call on each other under /v2/internal/ (no client may).
  const gets = new Set(registered.filter((r) => r.method === "get").map((r) => r.url));
  const listed = registered.filter(
    (r) =>
      !(r.method === "head" && gets.has(r.url)) &&
      !/^\/(docs|dashboard|v2\/internal)(\/|$)/.test(r.url),
  );
  expect(listed.length).toBeGreaterThan(10);
  for (const { method, url } of listed) {
    const op = doc.paths[templated(url)]?.[method];
    expect(op, `${method.toUpperCase()} ${url} is missing from the document`).toBeDefined();
    expect(op["x-undocumented"], `${method.toUpperCase()} ${url} has no routeDoc`).toBeUndefined();
  }
  expect(doc.paths["/v2/openapi.json"].get).toBeDefined();
  // And nothing is documented that the app does not serve.
  expect(operations(doc).length).toBe(listed.length);
});

test("errors: each operation's codes grouped by their status, in the one error shape", () => {
  const interact = doc.paths[INTERACT].post.responses;
  const codes = (status: string) =>
    interact[status].content["application/json"].schema.allOf[1].properties.code.enum;
  expect(codes("404")).toEqual(["JOB_NOT_FOUND"]);
  expect(codes("503")).toEqual(
    expect.arrayContaining(["SESSION_ON_OTHER_NODE", "SANDBOX_UNAVAILABLE"]),
  );
  expect(codes("400")).toEqual(["BAD_REQUEST"]);
  expect(interact["200"].content["application/json"].schema.properties.cdpUrl).toBeDefined();
  expect(doc.components.schemas.Error.required).toEqual(["success", "code", "error"]);
  // Who needs a key: /v2 operations, but not the document itself nor the files.
  expect(doc.paths[INTERACT].post.security).toEqual([{ bearerAuth: [] }]);
  expect(doc.paths["/v2/openapi.json"].get.security).toEqual([]);
  expect(doc.paths["/v2/files/{name}"].get.security).toEqual([]);
  expect(doc.paths["/metrics"].get.security).toEqual([{ metricsToken: [] }]);
  expect(doc.components.securitySchemes.bearerAuth.description).toMatch(/USE_DB_AUTHENTICATION/);
});

test("the fields a reader writes first carry an example, not the word string", () => {
  const body = (path: string) =>
    doc.paths[path].post.requestBody.content["application/json"].schema;
  expect(body("/v2/scrape").properties.url.examples).toEqual(["https://example.com"]);
  const interact = JSON.stringify(body("/v2/scrape/{jobId}/interact"));
  expect(interact).toContain("await page.title()");
  expect(body("/v2/browser/{id}/execute").properties.code.examples[0]).toContain("agent-browser");
});

test("request schemas have a shape everywhere and compile as JSON Schema 2020-12", () => {
  for (const { path, method, op } of operations(doc)) {
    const body = op.requestBody?.content["application/json"].schema;
    const params = (op.parameters ?? []).map((p: any) => p.schema);
    for (const schema of [body, ...params].filter(Boolean)) {
      expect(shapelessSchemas(schema), `${method} ${path}`).toEqual([]);
      expect(() => compile(schema), `${method} ${path}`).not.toThrow();
    }
  }
  // The input side of what zod transforms: the served formats, parsers, redactPII: false only.
  const scrape = bodySchema(doc, "/v2/scrape", "post") as any;
  expect(JSON.stringify(scrape.properties.formats.items)).toContain("screenshot@fullPage");
  expect(scrape.properties.redactPII.const).toBe(false);
  expect(scrape.required).toEqual(["url"]);
});

describe("documented request bodies", () => {
  test.each(Object.entries(SCRAPE_EXAMPLES))(
    "scrape, %s: valid against the document, and the server scrapes it",
    async (_name, example) => {
      const validate = compile(bodySchema(doc, "/v2/scrape", "post"));
      expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
      // Aimed at the local fixture site instead: tests never reach the internet.
      const res = await postJson(`${server.url}/v2/scrape`, { ...example, url: `${site.url}/` });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    },
  );

  test.each(Object.entries(INTERACT_EXAMPLES))(
    "interact, %s: valid against the document, and past the server's validation",
    async (_name, example) => {
      const validate = compile(bodySchema(doc, INTERACT, "post"));
      expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
      // An unknown scrape: a valid body gets as far as looking it up (a prompt stops earlier
      // here, for want of a model); an invalid one would be a 400.
      const res = await postJson(`${server.url}/v2/scrape/${randomUUID()}/interact`, example);
      expect(res.body.code).toBe(example.prompt ? "MODEL_NOT_CONFIGURED" : "JOB_NOT_FOUND");
    },
  );

  test.each(Object.entries(BAD_SCRAPES))(
    "scrape, %s: refused by the document and by the server",
    async (_name, bad) => {
      expect(compile(bodySchema(doc, "/v2/scrape", "post"))(bad)).toBe(false);
      const res = await postJson(`${server.url}/v2/scrape`, bad);
      expect(res.status).toBe(400);
    },
  );

  test.each(Object.entries(BAD_INTERACTS))(
    "interact, %s: refused by the document and by the server",
    async (_name, bad) => {
      expect(compile(bodySchema(doc, INTERACT, "post"))(bad)).toBe(false);
      const res = await postJson(`${server.url}/v2/scrape/${randomUUID()}/interact`, bad);
      expect(res.status).toBe(400);
    },
  );
});

test("a real scrape's answer matches the documented response", async () => {
  const res = await postJson(`${server.url}/v2/scrape`, {
    url: `${site.url}/`,
    formats: ["markdown", "html", "rawHtml", "links", "images", "screenshot"],
    actions: [{ type: "executeJavascript", script: "return document.title" }],
  });
  expect(res.status).toBe(200);
  const schema = doc.paths["/v2/scrape"].post.responses["200"].content["application/json"].schema;
  const validate = compile(schema);
  expect(validate(res.body), JSON.stringify(validate.errors)).toBe(true);
});

test("/docs and the document answer without a key while authentication is on", async () => {
  // The real app with authentication on, on this file's services: HTTP only, asked in-process.
  const authed = buildApp(
    { ...server.services.config, useDbAuthentication: true },
    server.services,
  );
  try {
    const get = (url: string) => authed.inject({ method: "GET", url });
    expect((await get("/v2/team/credit-usage")).statusCode).toBe(401);
    const page = await get("/docs");
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    const html = page.body;
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.some((s) => s.endsWith("swagger-ui-bundle.js"))).toBe(true);
    for (const src of scripts) {
      const asset = await get(new URL(src, "http://localhost/docs").pathname);
      expect(asset.statusCode, src).toBe(200);
      expect(asset.headers["content-type"], src).toMatch(/javascript/);
      expect(asset.body.length, src).toBeGreaterThan(0);
    }
    // Nothing is fetched from elsewhere: every asset is served by this server.
    expect(html).not.toMatch(/https?:\/\//);
    // The project's own mark, not Swagger's or Fastify's.
    const init = await get("/docs/static/swagger-initializer.js");
    expect(init.body).toContain(
      `data:image/svg+xml;base64,${Buffer.from(fs.readFileSync("src/dashboard/public/logo.svg")).toString("base64")}`,
    );
    for (const url of ["/v2/openapi.json", "/docs/json"]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.json().openapi, url).toBe(doc.openapi);
    }
  } finally {
    await authed.close();
  }
});

import path from "node:path";
import SQLite from "better-sqlite3";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/config.js";
import { registerAuth, registerPublic } from "../src/http/auth.js";
import { registerErrorHandler } from "../src/http/error-handler.js";
import type { TeamService } from "../src/teams/service.js";
import { operations } from "./helpers/openapi-doc.js";
import { rawCall } from "./helpers/raw-http.js";
import { closeAll, startTestServer, type TestServer } from "./helpers/server.js";

/** A well-formed id for every path parameter, so the router matches the route itself. */
const ID = "0b7c9a3e-5f1d-4c2b-9a8e-1d2c3b4a5f60";

/** Percent-encodes the character at `i` of `path` (the router decodes it back). */
const encodeAt = (path: string, i: number) =>
  path.slice(0, i) + "%" + path.charCodeAt(i).toString(16).toUpperCase() + path.slice(i + 1);

/**
 * Spellings of one path that a router may take for the same route. Each must be refused without
 * a key, or not found at all: never served, never a 500.
 */
function spellings(path: string): string[] {
  const letters = [...path].flatMap((c, i) => (/[a-z0-9]/i.test(c) ? [i] : []));
  return [
    path,
    ...letters.slice(0, 4).map((i) => encodeAt(path, i)),
    [...path].map((c, i) => (c === "/" ? c : encodeAt(path, i).slice(i, i + 3))).join(""),
    encodeAt(path, path.length - 1).toLowerCase(),
    `/${path}`,
    path.replace("/v2/", "/v2//"),
    path.replace("/v2/", "/v2/./"),
    `/x/..${path}`,
    `/x/%2e%2e${path}`,
    `${path}%00`,
    `${path}/`,
    `${path};a=b`,
    path.replace("/v2/", "/V2/"),
    `${path}?%00`,
  ];
}

describe("authentication is decided on the route the router matched", () => {
  let server: TestServer;
  let teamRoutes: { method: string; path: string }[];

  beforeAll(async () => {
    server = await startTestServer({ USE_DB_AUTHENTICATION: "true" });
    const doc = await (await fetch(`${server.url}/v2/openapi.json`)).json();
    teamRoutes = operations(doc)
      .filter(({ op }) => op.security?.some((s: object) => "bearerAuth" in s))
      .map(({ path, method }) => ({
        method: method.toUpperCase(),
        path: path.replace(/\{\w+\}/g, ID),
      }));
  });
  afterAll(() => closeAll(server));

  it("lists the routes that need a key (the probe below covers each)", () => {
    const paths = teamRoutes.map((r) => `${r.method} ${r.path}`);
    expect(paths).toContain("GET /v2/sessions");
    expect(paths).toContain("POST /v2/scrape");
    expect(paths).toContain("POST /v2/browser");
    expect(paths).toContain(`POST /v2/scrape/${ID}/interact`);
    expect(paths).toContain("GET /v2/team/credit-usage");
  });

  it("refuses every spelling of every team route without a key: encoded, doubled, dotted, NUL", async () => {
    const served: string[] = [];
    for (const { method, path } of teamRoutes) {
      const body = method === "POST" ? { url: "http://example.com/", code: "1" } : undefined;
      for (const target of spellings(path)) {
        const res = await rawCall(server.url, method, target, body);
        // 401: the router took it for the route; 400/404: it did not take it for any route.
        if (![400, 401, 404].includes(res.status))
          served.push(`${method} ${target} -> ${res.status}`);
        if (res.status === 401) expect(res.body.code, target).toBe("UNAUTHORIZED");
      }
    }
    expect(served).toEqual([]);
  });

  it("an encoded path reaches the route and its key check, and writes nothing", async () => {
    const res = await rawCall(server.url, "POST", "/%762/scrape", {
      url: "http://example.com/",
      profile: { name: "probe", saveChanges: true },
    });
    expect(res).toMatchObject({ status: 401, body: { code: "UNAUTHORIZED" } });
    for (const target of ["/%762/sessions", "/v%32/browser", "/%762/team/credit-usage"]) {
      expect((await rawCall(server.url, "GET", target)).status, target).toBe(401);
    }
    expect(
      (await rawCall(server.url, "POST", "/%762/browser", {})).status,
      "POST /%762/browser",
    ).toBe(401);
    const db = new SQLite(path.join(server.dataDir, "server.db"), { readonly: true });
    try {
      expect(db.prepare("SELECT team_id, name FROM profiles").all()).toEqual([]);
    } finally {
      db.close();
    }
  });

  it("what is public stays public, however it is spelled", async () => {
    for (const target of ["/health", "/%68ealth", "/v2/openapi.json", "/v2/%6Fpenapi.json"]) {
      expect((await rawCall(server.url, "GET", target)).status, target).toBe(200);
    }
  });
});

describe("the dashboard's page", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ USE_DB_AUTHENTICATION: "true" });
  });
  afterAll(() => closeAll(server));

  it("carries its CSP and refuses framing however it is reached", async () => {
    for (const target of ["/", "/dashboard/index.html", "/dashboard/%69ndex.html"]) {
      const res = await fetch(`${server.url}${target}`);
      expect(res.status, target).toBe(200);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp, target).toContain("script-src 'self'");
      expect(csp, target).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options"), target).toBe("nosniff");
    }
  });
});

describe("a route must say who may call it", () => {
  const config = loadConfig({ USE_DB_AUTHENTICATION: "true", LOG_LEVEL: "silent" });
  const teams = { authenticate: async () => undefined } as unknown as TeamService;

  it("refuses at start-up a route that does not say", async () => {
    const app = Fastify();
    registerAuth(app, config, teams);
    app.register(async (scope) => {
      scope.get("/v2/forgotten", async () => ({ secret: true }));
    });
    await expect(app.ready()).rejects.toThrow(/GET \/v2\/forgotten.*who may call it/);
    await app.close().catch(() => undefined);
  });

  it("takes routes that say, and routes a plugin registers as public", async () => {
    const app = Fastify();
    registerErrorHandler(app, () => undefined);
    registerAuth(app, config, teams);
    app.get("/v2/team-thing", { config: { access: "team" } }, async () => ({ ok: true }));
    app.get("/open", { config: { access: "public" } }, async () => ({ ok: true }));
    registerPublic(
      app,
      async (scope: FastifyInstance, opts: { path: string }) => {
        scope.get(opts.path, async () => ({ ok: true }));
      },
      { path: "/plugin-file" },
    );
    await app.ready();
    expect((await app.inject({ url: "/%76%32/team-thing" })).statusCode).toBe(401);
    expect((await app.inject({ url: "/open" })).statusCode).toBe(200);
    expect((await app.inject({ url: "/plugin-file" })).statusCode).toBe(200);
    await app.close();
  });
});

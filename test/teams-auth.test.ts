import fs from "node:fs";
import path from "node:path";
import Firecrawl from "@mendable/firecrawl-js";
import { chromium } from "playwright-core";
import WebSocket from "ws";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runAdmin } from "../src/admin/commands.js";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { closeAll, startTestServer, type TestServer } from "./helpers/server.js";
import { makeTeam, teamClient } from "./helpers/team-client.js";

let server: TestServer;
let site: FixtureSite;

beforeAll(async () => {
  site = await startFixtureSite();
  // The fixture site is on loopback, which authentication otherwise closes off.
  server = await startTestServer({ USE_DB_AUTHENTICATION: "true", ALLOW_PRIVATE_NETWORK: "true" });
});
afterAll(() => closeAll(server, site));

test("every /v2 request needs a team's key: missing, unknown and revoked keys get 401", async () => {
  const acme = await makeTeam(server, "auth-acme", 10);
  const none = await teamClient(server).scrape(`${site.url}/`);
  expect(none.status).toBe(401);
  expect(none.body).toMatchObject({ success: false, code: "UNAUTHORIZED" });
  expect(none.body.error).toMatch(/needs an API key.*Authorization: Bearer/);

  const unknown = await teamClient(server, "fc-not-a-key").scrape(`${site.url}/`);
  expect(unknown.status).toBe(401);
  expect(unknown.body.error).toMatch(/invalid or revoked API key/);
  const notBearer = await fetch(`${server.url}/v2/team/credit-usage`, {
    headers: { authorization: `Basic ${acme.key}` },
  });
  expect(notBearer.status).toBe(401);
  // The key alone, without the word Bearer: the answer says what is missing.
  const bare = await fetch(`${server.url}/v2/team/credit-usage`, {
    headers: { authorization: acme.key },
  });
  expect(bare.status).toBe(401);
  expect((await bare.json()).error).toMatch(/the word Bearer is missing/);
  // Nothing ran for the refused calls: the team paid nothing.
  expect((await teamClient(server, acme.key).credits()).body.data.remainingCredits).toBe(10);

  expect((await teamClient(server, acme.key).scrape(`${site.url}/`)).status).toBe(200);
  await server.services.teams.revokeKey(acme.keyId);
  expect((await teamClient(server, acme.key).scrape(`${site.url}/`)).status).toBe(401);
  // What is not /v2 needs no key.
  expect((await fetch(`${server.url}/health`)).status).toBe(200);
});

test("another team's scrape: interact and DELETE are 403, its CDP and live view stay shut to others", async () => {
  const a = await makeTeam(server, "auth-a", 100);
  const b = await makeTeam(server, "auth-b", 100);
  const ca = teamClient(server, a.key);
  const cb = teamClient(server, b.key);
  const id = await ca.scrapeId(`${site.url}/`);

  // Before and after A's session exists, B is refused and starts nothing.
  expect(await cb.interact(id)).toMatchObject({ status: 403, body: { error: "Forbidden." } });
  const first = await ca.interact(id, { code: "await page.title()" });
  expect(first.status).toBe(200);
  expect(await cb.interact(id)).toMatchObject({ status: 403, body: { error: "Forbidden." } });
  expect(await cb.stop(id)).toMatchObject({ status: 403, body: { error: "Forbidden." } });
  expect(server.services.sessions.activeCount()).toBe(1);

  // B's own key is no CDP token, and a made-up token opens nothing.
  const base = first.body.cdpUrl.replace(/[^/]+$/, "");
  for (const token of [b.key, "A".repeat(43)]) {
    await expect(chromium.connectOverCDP(base + token, { timeout: 5_000 })).rejects.toThrow();
  }
  // A's session is unharmed and its own URLs work...
  expect((await ca.interact(id, { code: "1 + 1" })).body.result).toBe("2");
  expect((await fetch(first.body.liveViewUrl)).status).toBe(200);
  // ...until A stops it: then they die with it.
  expect((await ca.stop(id)).status).toBe(200);
  expect((await fetch(first.body.liveViewUrl)).status).toBe(404);
  const ws = new WebSocket(first.body.cdpUrl);
  const closed = await new Promise<string>((resolve) => {
    ws.on("open", () => resolve("open"));
    ws.on("error", () => resolve("refused"));
    ws.on("unexpected-response", () => resolve("refused"));
  });
  ws.terminate();
  expect(closed).toBe("refused");
});

test("keys are stored only as digests and shown once, by the admin command", async () => {
  const connect = async () => server.services.teams;
  const created = await runAdmin(["team", "create", "auth-digest"], connect);
  expect(created.code).toBe(0);
  const made = await runAdmin(["key", "create", "auth-digest", "--json"], connect);
  expect(made.code).toBe(0);
  const { key, id } = JSON.parse(made.stdout);
  expect(key).toMatch(/^fc-[A-Za-z0-9_-]{43}$/);
  // Listing shows the key's id and prefix only.
  const listed = await runAdmin(["key", "list", "auth-digest"], connect);
  expect(listed.stdout).toContain(id);
  expect(listed.stdout).not.toContain(key);
  // Nowhere in the database files is the key, nor its secret part.
  const secret = key.slice("fc-".length);
  for (const f of fs.readdirSync(server.dataDir).filter((f) => f.startsWith("server.db"))) {
    const bytes = fs.readFileSync(path.join(server.dataDir, f));
    expect(bytes.includes(key), f).toBe(false);
    expect(bytes.includes(secret.slice(10)), f).toBe(false);
  }
  // The key works.
  expect((await teamClient(server, key).credits()).status).toBe(200);
});

test("admin errors are clear and change nothing", async () => {
  const connect = async () => server.services.teams;
  const teamsBefore = (await server.services.teams.listTeams()).length;
  const dup = await runAdmin(["team", "create", "auth-dup"], connect);
  expect(dup.code).toBe(0);
  const again = await runAdmin(["team", "create", "auth-dup"], connect);
  expect(again).toMatchObject({ code: 1, stderr: expect.stringContaining("already exists") });
  const unknown = await runAdmin(["credits", "grant", "nobody", "5"], connect);
  expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('No team "nobody"') });
  const bad = await runAdmin(["credits", "grant", "auth-dup", "1.5"], connect);
  expect(bad).toMatchObject({ code: 1, stderr: expect.stringContaining("whole number") });
  const revoke = await runAdmin(["key", "revoke", "key_000000000000"], connect);
  expect(revoke).toMatchObject({ code: 1, stderr: expect.stringContaining("No active key") });
  const usage = await runAdmin(["team", "explode"], connect);
  expect(usage).toMatchObject({ code: 2, stderr: expect.stringContaining("Usage:") });
  expect((await server.services.teams.listTeams()).length).toBe(teamsBefore + 1);
  expect((await server.services.teams.report("auth-dup")).ledger).toEqual([]);
});

test("the official SDK works with a team's key, and is told 401 without one", async () => {
  const t = await makeTeam(server, "auth-sdk", 100);
  const app = new Firecrawl({ apiUrl: server.url, apiKey: t.key });
  const doc = await app.scrape(`${site.url}/`, { formats: ["markdown"] });
  const id = doc.metadata!.scrapeId!;
  const run = await app.interact(id, { code: "await page.title()" });
  expect(run.result).toBe("Fixture Home");
  const stopped = await app.stopInteraction(id);
  expect(stopped.creditsBilled).toBe(2);
  expect((await app.getCreditUsage()).remainingCredits).toBe(100 - 1 - 2);

  const anonymous = new Firecrawl({ apiUrl: server.url });
  await expect(anonymous.scrape(`${site.url}/`)).rejects.toMatchObject({ status: 401 });
});

test("a team's standalone browser sessions are its own: 403 to others, absent from their list", async () => {
  const a = await makeTeam(server, "auth-browser-a", 100);
  const b = await makeTeam(server, "auth-browser-b", 100);
  const [ba, bb] = [teamClient(server, a.key).browser, teamClient(server, b.key).browser];
  const created = await ba.create({ ttl: 60 });
  expect(created.status).toBe(200);
  const id = created.body.id;
  // Held for its own TTL: 60 s at 2/min.
  expect((await server.services.store.credits.balance(a.id)).reserved).toBe(2);
  const exec = await bb.execute(id, { code: "1", language: "node" });
  expect(exec).toMatchObject({ status: 403, body: { error: "Forbidden." } });
  expect((await bb.stop(id)).status).toBe(403);
  expect((await bb.list()).body.sessions).toEqual([]);
  expect((await ba.list()).body.sessions.map((s: any) => s.id)).toEqual([id]);
  const stopped = await ba.stop(id);
  expect(stopped).toMatchObject({ status: 200, body: { creditsBilled: 2 } });
  expect(await server.services.store.credits.balance(a.id)).toEqual({ available: 98, reserved: 0 });
});

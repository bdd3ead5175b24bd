import { afterAll, beforeAll, expect, test } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { startMain } from "./helpers/main-process.js";
import { freePort } from "./helpers/ports.js";
import { interact, scrapeId } from "./helpers/interact.js";

// What an operator reads: the real entry point's standard output in each log format.

let site: FixtureSite;
beforeAll(async () => {
  site = await startFixtureSite();
});
afterAll(async () => {
  await site?.close();
});

test("LOG_FORMAT=json: one JSON object per line, and a normal day has no warnings", async () => {
  const server = await startMain({ LOG_FORMAT: "json", BROWSER_POOL_SIZE: "1" });
  // A scrape and a session with its sandbox worker: routine work, nothing to act on.
  const id = await scrapeId(server.url, { url: site.url + "/" });
  expect((await interact(server.url, id, { code: "await page.title()" })).body).toMatchObject({
    result: "Fixture Home",
  });
  const out = await server.stop();
  const lines = out.split("\n").filter((l) => l.trim());
  const records = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
  expect(records.some((r) => /listening/i.test(r.msg))).toBe(true);
  expect(records.some((r) => /sandbox worker \d+ started/.test(r.msg))).toBe(true);
  const warnings = records.filter((r) => r.level >= 40);
  expect(warnings, JSON.stringify(warnings)).toEqual([]);
}, 120_000);

test("LOG_FORMAT=pretty: readable lines with a time and a level, not JSON", async () => {
  const server = await startMain({ LOG_FORMAT: "pretty", BROWSER_POOL_SIZE: "0" });
  const out = await server.stop();
  const listening = out.split("\n").find((l) => /listening/i.test(l));
  expect(listening, out).toMatch(
    /^\[?\d\d:\d\d:\d\d\.\d{3}\]? INFO.*Server listening at http:\/\//,
  );
  expect(() => JSON.parse(listening!)).toThrow();
}, 60_000);

test("an operator's log: a start line that says what runs, one line per request, client faults without stacks", async () => {
  const server = await startMain({
    LOG_FORMAT: "json",
    BROWSER_POOL_SIZE: "0",
    ALLOW_PRIVATE_NETWORK: "true",
  });
  // Polling and probes: not at info.
  for (let i = 0; i < 3; i++) {
    await fetch(`${server.url}/health`);
    await fetch(`${server.url}/v2/sessions`);
  }
  // A request, and one the target site fails (a refused port): the caller's to fix.
  await fetch(`${server.url}/v2/openapi.json`);
  const refused = await fetch(`${server.url}/v2/scrape`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ url: `http://127.0.0.1:${await freePort()}/` }),
  });
  expect(refused.status).toBe(502);
  const out = await server.stop();
  const records = out
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, any>);

  const banner = records.find((r) => String(r.msg).startsWith("ready on "));
  expect(banner, out).toBeDefined();
  for (const part of [
    "dashboard ",
    "authentication off",
    "sandbox ",
    "Chromium ",
    "database sqlite",
    "languages node",
    "prompts ",
  ]) {
    expect(banner!.msg).toContain(part);
  }
  const requests = records.filter((r) => r.level === 30 && typeof r.status === "number");
  expect(requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
    "GET /v2/openapi.json 200",
    "POST /v2/scrape 502",
  ]);
  // Fastify's own pair of lines per request is gone.
  expect(records.filter((r) => r.msg === "incoming request")).toEqual([]);
  // The refused port is logged at info, without a stack; nothing at warn or above.
  const fault = records.find((r) => r.code === "SCRAPE_CONNECTION_FAILED");
  expect(fault?.level).toBe(30);
  expect(JSON.stringify(fault)).not.toContain("stack");
  expect(records.filter((r) => r.level >= 40)).toEqual([]);
}, 120_000);

import { afterAll, beforeAll, expect, test } from "vitest";
import { startFixtureSite, type FixtureSite } from "./helpers/fixture-site.js";
import { startMain } from "./helpers/main-process.js";
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

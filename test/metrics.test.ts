import { expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { interact, scrapeId, stop } from "./helpers/interact.js";
import type { TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";

const TOKEN = "metrics-token-0123456789";
let server: TestServer;
let site: FixtureSite;

useServerAndSite((s) => ({ server, site } = s), { METRICS_TOKEN: TOKEN });

async function metrics(): Promise<string> {
  const res = await fetch(`${server.url}/metrics`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one sample, e.g. value(text, 'fcis_errors_total{code="X"}'); 0 when absent. */
function value(text: string, sample: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

test("/metrics needs METRICS_TOKEN when it is set", async () => {
  expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
  const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: "Bearer nope" } });
  expect(wrong.status).toBe(401);
  const text = await metrics();
  // The Node process's own figures, each named once: fcis_process_*, fcis_nodejs_*.
  expect(text).toContain("fcis_process_cpu_user_seconds_total");
  expect(text).toContain("fcis_nodejs_eventloop_lag_seconds");
  expect(text).not.toContain("fcis_process_process_");
});

test("scrapes, sessions, runs by language, errors and live levels are counted as they happen", async () => {
  const id = await scrapeId(server.url, { url: `${site.url}/` });
  expect((await interact(server.url, id, { code: "await page.title()" })).status).toBe(200);
  let text = await metrics();
  expect(value(text, 'fcis_scrape_seconds_count{outcome="ok"}')).toBe(1);
  expect(value(text, 'fcis_sessions_created_total{kind="interact"}')).toBe(1);
  expect(value(text, 'fcis_session_create_seconds_count{kind="interact"}')).toBe(1);
  expect(value(text, 'fcis_interact_seconds_count{language="node",outcome="ok"}')).toBe(1);
  expect(value(text, "fcis_sessions_live")).toBe(1);
  expect(value(text, 'fcis_warm_pool_takes_total{result="miss"}')).toBe(1);

  const failed = await interact(server.url, id, { code: "throw new Error('x')" });
  expect(failed.body.success).toBe(false);
  const unknown = "00000000-0000-4000-8000-000000000000";
  expect((await interact(server.url, unknown, { code: "1" })).status).toBe(404);
  expect((await stop(server.url, id)).status).toBe(200);
  const bad = await fetch(`${server.url}/v2/scrape`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ url: `${site.url}/slow`, timeout: 1000 }),
  });
  const badCode = ((await bad.json()) as { code: string }).code;
  expect(badCode).toBe("SCRAPE_TIMEOUT");

  text = await metrics();
  expect(value(text, 'fcis_interact_seconds_count{language="node",outcome="failed"}')).toBe(1);
  expect(value(text, 'fcis_errors_total{code="JOB_NOT_FOUND"}')).toBe(1);
  expect(value(text, 'fcis_errors_total{code="SCRAPE_TIMEOUT"}')).toBe(1);
  expect(value(text, 'fcis_scrape_seconds_count{outcome="SCRAPE_TIMEOUT"}')).toBe(1);
  expect(value(text, 'fcis_sessions_ended_total{reason="stopped"}')).toBe(1);
  expect(value(text, "fcis_sessions_live")).toBe(0);
});

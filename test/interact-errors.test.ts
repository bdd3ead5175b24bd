import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { interact, scrapeId, stop } from "./helpers/interact.js";
import type { TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";

let server: TestServer;
let site: FixtureSite;
let id: string;

useServerAndSite((s) => ({ server, site } = s), { MAX_BROWSER_SESSIONS: "1" });
beforeAll(async () => {
  id = await scrapeId(server.url, { url: `${site.url}/` });
});

describe("bad input is a 400 that says what is wrong", () => {
  test("a job id that is not a UUID", async () => {
    const res = await interact(server.url, "not-a-uuid", { code: "1" });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      success: false,
      error: "Invalid job ID format. Job ID must be a valid UUID.",
    });
    expect((await stop(server.url, "nope")).status).toBe(400);
  });

  test.each([
    ["neither code nor prompt", {}],
    ["both code and prompt", { code: "1", prompt: "do it" }],
    ["an unknown language", { code: "1", language: "ruby" }],
    ["empty code", { code: "" }],
    ["code over 100,000 chars", { code: "1".repeat(100_001) }],
    ["a prompt over 10,000 chars", { prompt: "a".repeat(10_001) }],
    ["timeout 0", { code: "1", timeout: 0 }],
    ["timeout 301", { code: "1", timeout: 301 }],
    ["an unknown key", { code: "1", bogus: true }],
  ])("%s", async (_name, body) => {
    const res = await interact(server.url, id, body);
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
    expect(res.body.details.length).toBeGreaterThan(0);
  });

  test("a body that is not JSON", async () => {
    const res = await interact(server.url, id, "{not json");
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
  });
});

describe("spec error codes", () => {
  test("404 for an unknown scrape", async () => {
    const res = await interact(server.url, randomUUID(), { code: "1" });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ success: false, code: "JOB_NOT_FOUND", error: "Job not found." });
  });

  test("404 'Browser session not found.' when stopping a scrape that never had one", async () => {
    const res = await stop(server.url, id);
    expect(res.status).toBe(404);
    expect(res.body.error).toBe("Browser session not found.");
  });

  test("409 for a zeroDataRetention scrape (no replay context)", async () => {
    const zdr = await scrapeId(server.url, { url: `${site.url}/`, zeroDataRetention: true });
    const res = await interact(server.url, zdr, { code: "1" });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe(
      "Replay context is unavailable for this scrape job. Please rerun the scrape.",
    );
  });

  test("prompt without a model provider is refused without creating a session", async () => {
    const prompt = await interact(server.url, id, { prompt: "click the button" });
    expect(prompt.status).toBe(503);
    expect(prompt.body.error).toMatch(/OPENAI_API_KEY/);
    expect(server.services.sessions.activeCount()).toBe(0);
    expect((await stop(server.url, id)).status).toBe(404);
  });

  test("429 once MAX_BROWSER_SESSIONS are live; 200 again after one stops", async () => {
    const a = await scrapeId(server.url, { url: `${site.url}/` });
    const b = await scrapeId(server.url, { url: `${site.url}/` });
    expect((await interact(server.url, a, { code: "1" })).status).toBe(200);
    const refused = await interact(server.url, b, { code: "1" });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe(
      "You have reached the maximum number of active browser sessions.",
    );
    expect((await stop(server.url, a)).status).toBe(200);
    expect((await interact(server.url, b, { code: "1" })).status).toBe(200);
    await stop(server.url, b);
  });

  test("MAX_BROWSER_SESSIONS holds for browser sessions created at once, and the 429 says when to retry", async () => {
    const post = () =>
      fetch(`${server.url}/v2/browser`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
    const answers = await Promise.all([post(), post(), post()]);
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 429, 429]);
    for (const r of answers.filter((r) => r.status === 429)) {
      // Refused while the other was still being made: its making ends soon.
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    const made = (await answers.find((r) => r.status === 200)!.json()) as { id: string };
    expect((await fetch(`${server.url}/v2/browser/${made.id}`, { method: "DELETE" })).status).toBe(
      200,
    );
  });

  test("concurrent first calls on one scrape create exactly one session", async () => {
    const s = await scrapeId(server.url, { url: `${site.url}/` });
    const calls = await Promise.all(
      Array.from({ length: 5 }, () => interact(server.url, s, { code: "await page.title()" })),
    );
    expect(calls.map((c) => c.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(calls.map((c) => c.body.sessionId)).size).toBe(1);
    expect(server.services.sessions.activeCount()).toBe(1);
    await stop(server.url, s);
  });
});

describe("mistakes in code get an answer that says what to fix", () => {
  test("a locator that matches nothing fails with Playwright's own message, in node and python", async () => {
    const other = await scrapeId(server.url, { url: `${site.url}/` });
    for (const language of ["node", "python"]) {
      const res = await interact(server.url, other, {
        code: "await page.click('#does-not-exist')",
        language,
        timeout: 5,
      });
      expect(res.status, language).toBe(200);
      expect(res.body.success, language).toBe(false);
      expect(res.body.killed, language).toBe(false);
      // The locator it waited for, not "Execution timed out".
      expect(res.body.error, language).toContain("#does-not-exist");
      expect(res.body.error, language).toMatch(/Timeout 4500ms exceeded/);
      expect(res.body.stderr, language).toContain("#does-not-exist");
    }
    await stop(server.url, other);
  });

  test("a python coroutine left without await is named, with no path of the server's", async () => {
    const other = await scrapeId(server.url, { url: `${site.url}/` });
    const res = await interact(server.url, other, { code: "page.title()", language: "python" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: false, result: "" });
    expect(res.body.error).toContain("not awaited");
    expect(res.body.error).toContain("await page.title()");
    expect(res.body.stderr).not.toMatch(/runner\.py|\/opt\//);
    expect(res.body.stderr).not.toContain("RuntimeWarning");
    // With await, the same line answers the title.
    const fixed = await interact(server.url, other, {
      code: "await page.title()",
      language: "python",
    });
    expect(fixed.body).toMatchObject({ success: true, result: "Fixture Home" });
    await stop(server.url, other);
  });
});

import { beforeAll, describe, expect, test } from "vitest";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { interact, scrapeId, stop } from "./helpers/interact.js";
import type { TestServer } from "./helpers/server.js";
import { useServerAndSite } from "./helpers/server-and-site.js";

let server: TestServer;
let site: FixtureSite;
let id: string;

useServerAndSite((s) => ({ server, site } = s), { BROWSER_POOL_SIZE: "1" });
beforeAll(async () => {
  id = await scrapeId(server.url, { url: `${site.url}/` });
});

describe("node code in a live session", () => {
  test("a download a page starts is seen by the session's Playwright, with its name", async () => {
    const dl = await scrapeId(server.url, { url: `${site.url}/downloads` });
    const res = await interact(server.url, dl, {
      code: `const [d] = await Promise.all([page.waitForEvent("download"), page.click("#dl")]);
JSON.stringify({ name: d.suggestedFilename(), path: new URL(d.url()).pathname, failure: await d.failure() })`,
    });
    expect(JSON.parse(res.body.result)).toEqual({
      name: "report.csv",
      path: "/report.csv",
      failure: null,
    });
    await stop(server.url, dl);
  });

  test("code that closes its own connection to the browser finds it again on the next call", async () => {
    const own = await scrapeId(server.url, { url: `${site.url}/` });
    const first = await interact(server.url, own, { code: "await page.title()" });
    expect(first.body.result).toBe("Fixture Home");
    const closed = await interact(server.url, own, {
      code: "await browser.close(); browser.isConnected()",
    });
    expect(closed.body).toMatchObject({ exitCode: 0, result: "false" });
    const again = await interact(server.url, own, { code: "await page.title()" });
    expect(again.body).toMatchObject({ exitCode: 0, result: "Fixture Home" });
    await stop(server.url, own);
  });

  test("the spec's example returns the page title as a JSON string, with every field", async () => {
    const res = await interact(server.url, id, {
      code: "const title = await page.title(); JSON.stringify({ title });",
      language: "node",
      timeout: 30,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      result: '{"title":"Fixture Home"}',
      stdout: "",
      stderr: "",
      exitCode: 0,
      killed: false,
    });
    expect(res.body.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.cdpUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/cdp\/[A-Za-z0-9_-]{43}$/);
    expect(res.body.liveViewUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/live\/[A-Za-z0-9_-]{43}$/);
    expect(res.body.interactiveLiveViewUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/live\//);
    expect(res.body.interactiveLiveViewUrl).not.toBe(res.body.liveViewUrl);
    expect(res.body).not.toHaveProperty("output");
    expect(res.body).not.toHaveProperty("error");
  });

  test("top-level declarations persist between calls", async () => {
    expect((await interact(server.url, id, { code: "const a = 41;" })).body.success).toBe(true);
    expect((await interact(server.url, id, { code: "a + 1" })).body.result).toBe("42");
  });

  test("a click in one call is visible in the next, in the same session", async () => {
    const first = await interact(server.url, id, { code: "await page.click('#btn');" });
    const second = await interact(server.url, id, {
      code: "await page.textContent('#btn')",
    });
    expect(second.body.result).toBe("clicked");
    expect(second.body.sessionId).toBe(first.body.sessionId);
  });

  test("console.log goes to stdout and console.error to stderr; return sets result", async () => {
    const res = await interact(server.url, id, {
      code: "console.log('hello', {n: 1}); console.error('oops'); return {ok: true};",
    });
    expect(res.body.stdout).toBe("hello { n: 1 }\n");
    expect(res.body.stderr).toBe("oops\n");
    expect(res.body.result).toBe('{"ok":true}');
  });

  test("an uncaught error is a 200 with success false, exit code 1, message and stack", async () => {
    const res = await interact(server.url, id, { code: "throw new Error('boom')" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: false, exitCode: 1, killed: false });
    expect(res.body.error).toContain("boom");
    expect(res.body.stderr).toContain("Error: boom");
    expect(res.body.stderr).toMatch(/\n\s+at /);
  });

  test("a run past its timeout is killed, and the session stays usable", async () => {
    await interact(server.url, id, { code: "await page.evaluate(() => { window.kept = 7; })" });
    const res = await interact(server.url, id, {
      code: "await new Promise((r) => setTimeout(r, 20000))",
      timeout: 1,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: false, killed: true });
    expect(res.body.exitCode).not.toBe(0);
    const after = await interact(server.url, id, {
      code: "await page.evaluate(() => window.kept)",
    });
    expect(after.body.result).toBe("7");
  });

  test("a loop that blocks the event loop is killed too, and the next call works", async () => {
    const res = await interact(server.url, id, { code: "while (true) {}", timeout: 1 });
    expect(res.body).toMatchObject({ success: false, killed: true });
    const after = await interact(server.url, id, { code: "await page.title()" });
    expect(after.body).toMatchObject({ success: true, result: "Fixture Home" });
  });

  test("output past the bound is cut and flagged", async () => {
    const res = await interact(server.url, id, {
      code: "for (let i = 0; i < 3000; i++) console.log('x'.repeat(1000));",
    });
    expect(res.body.truncated).toBe(true);
    expect(res.body.stdout.length).toBeLessThanOrEqual(1024 * 1024 + 200);
  });

  test("DELETE stops the session; a second DELETE reports the same bill; later calls answer 410", async () => {
    const other = await scrapeId(server.url, { url: `${site.url}/` });
    await interact(server.url, other, { code: "1" });
    const del = await stop(server.url, other);
    expect(del.status).toBe(200);
    // Nothing is charged without authentication; the response says what would have been.
    expect(del.body).toMatchObject({ success: true, status: "stopped", creditsBilled: 2 });
    expect(del.body.sessionDurationMs).toBeGreaterThan(0);
    // Stopping a stopped session is not an error (as Firecrawl): the bill as it stands.
    const twice = await stop(server.url, other);
    expect(twice.status).toBe(200);
    expect(twice.body).toEqual({ success: true, status: "stopped", creditsBilled: 2 });
    const again = await interact(server.url, other, { code: "1" });
    expect(again.status).toBe(410);
    expect(again.body).toMatchObject({
      success: false,
      error: "Browser session has been destroyed.",
    });
  });

  test("what the official clients send is accepted: telemetry labels, and a DELETE with a JSON content-type and no body", async () => {
    const other = await scrapeId(server.url, { url: `${site.url}/` });
    const res = await interact(server.url, other, {
      origin: "cli",
      integration: "cli",
      code: "await page.title()",
    });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    // What Python's requests sends for session.delete(url, headers={"Content-Type": ...}).
    const del = await fetch(`${server.url}/v2/scrape/${other}/interact`, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
    });
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ success: true, status: "stopped" });
    expect((await interact(server.url, other, { code: "1" })).status).toBe(410);
    // A POST still needs its body.
    const empty = await fetch(`${server.url}/v2/scrape/${other}/interact`, {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    expect(empty.status).toBe(400);
  });
});

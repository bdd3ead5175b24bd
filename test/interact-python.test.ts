import { beforeAll, describe, expect, test } from "vitest";
import Firecrawl from "@mendable/firecrawl-js";
import type { FixtureSite } from "./helpers/fixture-site.js";
import { interact, scrapeId } from "./helpers/interact.js";
import type { TestServer } from "./helpers/server.js";
import { useSecretServer } from "./helpers/secret-server.js";

const probe = useSecretServer({ BROWSER_POOL_SIZE: "1" });
let server: TestServer;
let site: FixtureSite;
let id: string;
beforeAll(() => {
  ({ server, site, id } = probe);
});

const py = async (code: string, timeout = 30, scrape = id) =>
  (await interact(server.url, scrape, { code, language: "python", timeout })).body;
const node = async (code: string, scrape = id) =>
  (await interact(server.url, scrape, { code, language: "node", timeout: 30 })).body;

describe("python code in a live session", () => {
  test("top-level await on the session's page; print is stdout, the last expression is result", async () => {
    const res = await py("title = await page.title()\nprint(title)\ntitle");
    expect(res).toMatchObject({
      success: true,
      stdout: "Fixture Home\n",
      result: "Fixture Home",
      stderr: "",
      exitCode: 0,
      killed: false,
    });
    expect(res.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.cdpUrl).toMatch(/\/cdp\//);
    expect(res).not.toHaveProperty("error");
  });

  test("result is the repr of a non-string value, and empty without a final expression", async () => {
    expect((await py("{'a': 1, 'b': [1, 2]}")).result).toBe("{'a': 1, 'b': [1, 2]}");
    expect((await py("40 + 2")).result).toBe("42");
    expect((await py("x = 1")).result).toBe("");
    expect((await py("print('only printed')")).result).toBe("");
  });

  test("bindings, functions and imports persist between calls", async () => {
    await py(
      "import json\ncounter = 41\nasync def heading():\n    return await page.text_content('h1')",
    );
    expect((await py("counter += 1\ncounter")).result).toBe("42");
    expect((await py("json.dumps({'h1': await heading()})")).result).toBe(
      '{"h1": "Hello fixture"}',
    );
  });

  test("an exception: success false, exit code 1, the traceback in stderr, the message in error", async () => {
    const res = await py("def explode():\n    raise ValueError('boom')\n\nexplode()");
    expect(res.success).toBe(false);
    expect(res.exitCode).toBe(1);
    expect(res.killed).toBe(false);
    expect(res.error).toBe("ValueError: boom");
    expect(res.stderr).toContain("Traceback (most recent call last):");
    expect(res.stderr).toContain("raise ValueError('boom')");
    // The runner's own frames are not the user's business.
    expect(res.stderr).not.toContain("runner.py");
  });

  test("a syntax error and a Playwright error are reported the same way", async () => {
    const syntax = await py("def f(:\n  pass");
    expect(syntax).toMatchObject({ success: false, exitCode: 1 });
    expect(syntax.error).toMatch(/^SyntaxError/);
    const missing = await py("await page.click('#no-such-thing', timeout=300)");
    expect(missing).toMatchObject({ success: false, exitCode: 1 });
    expect(missing.error).toMatch(/TimeoutError/);
  });

  test("past its timeout a run is killed with 124; the interpreter, its variables and the session survive", async () => {
    await py("kept = 'still here'");
    for (const code of ["while True:\n    pass", "await page.wait_for_timeout(60_000)"]) {
      const res = await py(code, 1);
      expect(res).toMatchObject({ success: false, killed: true, exitCode: 124 });
      expect(res.error).toMatch(/timed out/i);
    }
    expect((await py("kept")).result).toBe("still here");
    expect((await py("await page.title()")).result).toBe("Fixture Home");
  });

  test("an interpreter that had to go is replaced by a fresh one on the next call", async () => {
    await py("lost = 1");
    const res = await py("import os\nos._exit(3)");
    expect(res.success).toBe(false);
    expect(res.error).toMatch(/restarted; earlier variables are gone/);
    const next = await py("print('lost' in globals())\nawait page.title()");
    expect(next).toMatchObject({ success: true, stdout: "False\n", result: "Fixture Home" });
  });

  test("python reconnects after the node worker had to be restarted", async () => {
    const stuck = await interact(server.url, id, {
      code: "await new Promise((r) => setTimeout(r, 10)); while (true) {}",
      timeout: 1,
    });
    expect(stuck.body.killed).toBe(true);
    const res = await py("await page.title()");
    expect(res).toMatchObject({ success: true, result: "Fixture Home" });
  });

  test("code that closes its own connection to the browser finds it again on the next call", async () => {
    const closed = await py("await browser.close()\nbrowser.is_connected()");
    expect(closed).toMatchObject({ success: true, exitCode: 0, result: "False" });
    expect(await py("await page.title()")).toMatchObject({ success: true, result: "Fixture Home" });
    // Only python's connection ended: the session's browser is still node's too.
    expect(await node("await page.title()")).toMatchObject({
      success: true,
      result: "Fixture Home",
    });
  });

  test("output is bounded and marked truncated", async () => {
    const res = await py("print('x' * 3_000_000)\n'y' * 3_000_000");
    expect(res.success).toBe(true);
    expect(res.truncated).toBe(true);
    expect(res.stdout.length).toBeLessThanOrEqual(1024 * 1024);
    expect(res.result.length).toBeLessThanOrEqual(1024 * 1024);
  });

  test("python and node share one page: what one does the other sees", async () => {
    const form = await scrapeId(server.url, { url: `${site.url}/form` });
    await node("await page.fill('#user', 'typed by node')", form);
    expect((await py("await page.input_value('#user')", 30, form)).result).toBe("typed by node");
    await py(`await page.goto('${site.url}/')`, 30, form);
    expect((await node("page.url()", form)).result).toBe(`${site.url}/`);
    expect((await py("page.url", 30, form)).result).toBe(`${site.url}/`);
  });

  test("the official SDK's interact works unchanged with language python", async () => {
    const app = new Firecrawl({ apiKey: "fc-test", apiUrl: server.url });
    const res = await app.interact(id, { code: "await page.title()", language: "python" });
    expect(res.success).toBe(true);
    expect(res.result).toBe("Fixture Home");
  });
});

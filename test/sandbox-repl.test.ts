import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  sandboxTempDir,
  startPageServer,
  startSandboxSession,
  type SandboxSession,
} from "./sandbox-fixture.js";

const PAGE = `<!doctype html><html><head><title>Sandbox Fixture</title></head><body>
<button id="b" onclick="this.textContent='clicked'">Click me</button></body></html>`;

let root: string;
let session: SandboxSession;
let site: Awaited<ReturnType<typeof startPageServer>>;
const exec = (code: string, timeoutMs = 10_000) => session.worker.exec(code, timeoutMs);

beforeAll(async () => {
  root = sandboxTempDir();
  site = await startPageServer({ "/": PAGE });
  session = await startSandboxSession(root, "w");
  await session.worker.attach();
});

afterAll(async () => {
  await session?.close();
  await site?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe("node sandbox worker: REPL semantics", () => {
  it("keeps top-level declarations between runs and allows declaring them again", async () => {
    expect(await exec("const a = 41;")).toMatchObject({ result: "", exitCode: 0, killed: false });
    expect((await exec("a + 1")).result).toBe("42");
    expect((await exec("const a = 1; a")).result).toBe("1");
    expect(
      (await exec("let { x, y: [z] } = { x: 2, y: [3] }; class K { v() { return 4 } }")).exitCode,
    ).toBe(0);
    expect((await exec("x + z + new K().v()")).result).toBe("9");
  });

  it("runs the spec example on a page it navigated to, and sees a click in the next run", async () => {
    const nav = await exec(`await page.goto(${JSON.stringify(site.url)}); page.url()`);
    expect(nav).toMatchObject({ exitCode: 0, result: `${site.url}/` });
    const r = await exec("const title = await page.title(); JSON.stringify({ title });");
    expect(r).toMatchObject({ exitCode: 0, killed: false, result: '{"title":"Sandbox Fixture"}' });
    expect((await exec("title")).result).toBe("Sandbox Fixture");

    expect((await exec("await page.click('#b');")).exitCode).toBe(0);
    expect((await exec("await page.textContent('#b')")).result).toBe("clicked");
    expect((await exec("context.pages().length > 0 && browser.isConnected()")).result).toBe("true");
  });

  it("keeps async function declarations and awaits a returned promise", async () => {
    expect(
      (await exec("async function twice(n) { await null; return n * 2 } await twice(1)")).result,
    ).toBe("2");
    expect((await exec("twice(21)")).result).toBe("42");
  });

  it("encodes results: strings as-is, values as JSON, undefined as empty", async () => {
    expect((await exec("'plain'")).result).toBe("plain");
    expect((await exec("({ a: [1, 'x'] })")).result).toBe('{"a":[1,"x"]}');
    expect((await exec("undefined")).result).toBe("");
    expect((await exec("await Promise.resolve(7)")).result).toBe("7");
    expect((await exec("return 'early'; 'late'")).result).toBe("early");
    expect((await exec("if (true) { return [1] }")).result).toBe("[1]");
  });

  it("routes console output per stream and per run", async () => {
    const r = await exec(
      "console.log('out', 1); console.info('info'); console.debug('dbg'); console.error('bad'); console.warn('careful'); process.emitWarning('odd'); 'done'",
    );
    expect(r.stdout).toBe("out 1\ninfo\ndbg\n");
    expect(r.stderr).toContain("bad\ncareful\n");
    expect(r.result).toBe("done");
    // Warnings are emitted on the next tick: they land in this run or the next one.
    // One turn of the event loop is all the next tick needs; no time has to pass.
    const next = await exec("await new Promise((r) => setImmediate(r)); 1");
    expect(next.result).toBe("1");
    expect(r.stderr + next.stderr).toContain("Warning: odd");
    expect(next.stdout).toBe("");
  });

  it("reports thrown errors with their stack and keeps working", async () => {
    const r = await exec("function boom() { throw new Error('boom') }\nboom()");
    expect(r).toMatchObject({ exitCode: 1, killed: false, error: "boom", result: "" });
    expect(r.stderr).toContain("Error: boom");
    expect(r.stderr).toContain("interact.js:1");
    expect(r.stderr).not.toContain("runner.mjs");

    const rejected = await exec("await Promise.reject(new TypeError('nope'))");
    expect(rejected).toMatchObject({ exitCode: 1, error: "TypeError: nope" });
    expect((await exec("a")).result).toBe("1");
  });

  it("treats a syntax error as the user's error", async () => {
    const r = await exec("let = = 2");
    expect(r.exitCode).toBe(1);
    expect(r.error).toMatch(/^SyntaxError/);
    expect(r.stderr).toMatch(/SyntaxError/);
    expect((await exec("1 + 1")).result).toBe("2");
  });

  // The three runs below never end by themselves (or not within ten minutes, ten times this
  // test's own 60 s limit): that one returns at all shows its 1 s deadline stopped it, and the
  // flags and error say which way. No clock of ours is read, so a loaded machine changes nothing.
  it("stops a run that waits past its timeout and keeps the worker's state", async () => {
    const r = await exec("await new Promise((r) => setTimeout(r, 600_000))", 1_000);
    expect(r).toMatchObject({ killed: true, exitCode: 124, result: "" });
    expect(r.error).toMatch(/timed out/);
    // The runner's own deadline ended it: the process, and what it holds, is still there.
    expect((await exec("a")).result).toBe("1");
  });

  it("stops a synchronous endless loop", async () => {
    const r = await exec("while (true) {}", 1_000);
    expect(r).toMatchObject({ killed: true, exitCode: 124 });
    expect((await exec("a")).result).toBe("1");
  });

  it("restarts a worker whose event loop is blocked after an await", async () => {
    const r = await exec("await null; while (true) {}", 1_000);
    expect(r).toMatchObject({ killed: true, exitCode: 124 });
    expect(r.error).toMatch(/restarted/);
    // A fresh process: earlier variables are gone, the page is still the session's.
    const after = await exec("typeof a + ' ' + (await page.title())");
    expect(after).toMatchObject({ exitCode: 0, result: "undefined Sandbox Fixture" });
    expect(session.worker.alive).toBe(true);
  });

  it("bounds output and says so", async () => {
    const r = await exec(
      "const line = 'x'.repeat(1000); for (let i = 0; i < 3000; i++) console.log(line); 'x'.repeat(3e6)",
    );
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBeLessThanOrEqual(1024 * 1024);
    expect(r.stdout.length).toBeGreaterThan(1000 * 1000);
    expect(r.result.length).toBeLessThanOrEqual(1024 * 1024);
    const next = await exec("'small'");
    expect(next).toMatchObject({ result: "small", stdout: "", truncated: false });
  });

  it("picks another tab when the current page was closed", async () => {
    const r = await exec("await context.newPage(); await page.close(); 'closed'");
    expect(r.result).toBe("closed");
    expect(await exec("page.isClosed()")).toMatchObject({ exitCode: 0, result: "false" });
  });
});

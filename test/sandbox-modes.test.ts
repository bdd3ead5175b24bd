import fs from "node:fs";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxDetector } from "../src/isolation/detect.js";
import { prepareCode } from "../src/sandbox/runtimes/node-transform.js";
import { sandboxTempDir, startSandboxSession, type SandboxSession } from "./sandbox-fixture.js";

describe("SandboxDetector", () => {
  it("finds a working bubblewrap here, and says so for auto and bwrap", () => {
    const detector = new SandboxDetector();
    expect(detector.detect("auto")).toBe("bwrap");
    expect(detector.detect("bwrap")).toBe("bwrap");
    expect(detector.bwrapWorks()).toBe(true);
  });

  it("runs nothing for SANDBOX=none, and reports a missing bubblewrap in general terms", () => {
    const detector = new SandboxDetector({ bwrapPath: "/nonexistent/bwrap" });
    expect(detector.detect("none")).toBe("none");
    const auto = detector.detect("auto");
    expect(auto).toEqual({
      unavailable: {
        reason: "bubblewrap is not installed",
        detail: expect.stringContaining("/nonexistent/bwrap"),
      },
    });
    expect(detector.bwrapWorks()).toBe(false);
  });
});

describe("SANDBOX=none worker", () => {
  let root: string;
  let session: SandboxSession;
  const logs: string[] = [];

  beforeAll(async () => {
    process.env.FC_SANDBOX_NONE_SECRET = "none-mode-secret";
    root = sandboxTempDir();
    session = await startSandboxSession(root, "n", {
      mode: "none",
      log: { info: (_o, m) => logs.push(m) },
    });
  });

  afterAll(async () => {
    delete process.env.FC_SANDBOX_NONE_SECRET;
    await session?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("runs code against the session's browser, with a clean environment", async () => {
    const r = await session.worker.exec(
      "await page.goto('data:text/html,<title>None mode</title>'); JSON.stringify({ t: await page.title(), env: Object.keys(process.env).sort() })",
      10_000,
    );
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.result)).toEqual({ t: "None mode", env: ["HOME", "PATH", "TZ"] });
    expect(logs.join("\n")).toMatch(/WITHOUT isolation/);
  });

  it("stops for good on kill(), which is safe to call twice", async () => {
    await Promise.all([session.worker.kill(), session.worker.kill()]);
    await session.worker.exited;
    expect(session.worker.alive).toBe(false);
    const r = await session.worker.exec("1 + 1", 5_000);
    expect(r).toMatchObject({ exitCode: 137, result: "" });
    expect(r.error).toMatch(/stopped/);
  });
});

/** Runs prepared code the way the runner does, in one persistent context. */
async function runAll(snippets: string[]): Promise<unknown[]> {
  const ctx = vm.createContext({});
  const out: unknown[] = [];
  for (const s of snippets) {
    const p = prepareCode(s);
    if (!p.ok) throw new Error(p.error);
    const v = new vm.Script(p.code).runInContext(ctx);
    out.push(p.kind === "async" ? await v : v);
  }
  return out;
}

describe("prepareCode", () => {
  it("leaves plain code as a script and turns let/const/class into re-declarable vars", async () => {
    expect(prepareCode("1 + 1")).toMatchObject({ ok: true, kind: "script" });
    expect(
      await runAll(["const a = 1;", "const a = 2; let b; class C {}", "[a, b, typeof C]"]),
    ).toEqual([undefined, undefined, [2, undefined, "function"]]);
  });

  it("hoists declarations out of top-level-await code, destructuring included", async () => {
    const [, result] = await runAll([
      "const { x, y: [z = 3] = [] } = await { x: 1 }; var w; let v; function f() { return x + z } class K {}",
      "[x, z, w, v, f(), typeof K]",
    ]);
    expect(result).toEqual([1, 3, undefined, undefined, 4, "function"]);
  });

  it("hoists var declared inside top-level loops and blocks of async code", async () => {
    const [, result] = await runAll([
      "for (var i = 0; i < 3; i++) { await null } if (true) { var inner = 'in' } for (var k of [7]) {}",
      "[i, inner, k]",
    ]);
    expect(result).toEqual([3, "in", 7]);
  });

  it("returns the last expression, or what a top-level return gives", async () => {
    expect(await runAll(["await 1; 'last'", "return 5; 6", "await null; let q = 1;"])).toEqual([
      "last",
      5,
      undefined,
    ]);
  });

  it("leaves nested functions alone", async () => {
    expect(prepareCode("async function g() { await 1; return 2 } g()")).toMatchObject({
      kind: "script",
    });
  });

  it("reports a syntax error with its position", () => {
    expect(prepareCode("let = = 1")).toEqual({
      ok: false,
      error: expect.stringMatching(/^SyntaxError: .*\(1:\d+\)/),
    });
  });
});

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeRuntime } from "./node.js";
import { Runtimes } from "./staging.js";

let root: string;
let runtimes: Runtimes;
let staged: Record<string, string>;

/** Loads the staged Playwright in a fresh node with these flags; which bundles V8 refused. */
function loadWith(flags: string[]): { rejected: string[]; loaded: boolean } {
  const script = `
    const { installCodeCache } = await import(${JSON.stringify(path.join(staged.runner!, "code-cache.mjs"))});
    const { createRequire } = await import("node:module");
    const compiled = installCodeCache(${JSON.stringify(path.join(staged.runner!, "code-cache"))}, "use");
    const pw = createRequire(import.meta.url)(${JSON.stringify(staged["playwright-core"])});
    console.log(JSON.stringify({
      rejected: compiled().filter(([, s]) => s.cachedDataRejected).map(([n]) => n),
      loaded: typeof pw.chromium.connectOverCDP === "function",
    }));`;
  const out = execFileSync(process.execPath, [...flags, "--input-type=module", "-e", script]);
  return JSON.parse(out.toString());
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "fc-code-cache-"));
  runtimes = Runtimes.stage(root, [nodeRuntime]);
});
afterAll(async () => {
  await runtimes.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe("the node runners' code cache", () => {
  it("is made in the background on first use, whole and readable by the sandbox users", async () => {
    staged = runtimes.get("node")!.files;
    const dir = path.join(staged.runner!, "code-cache");
    const end = Date.now() + 30_000;
    while (!fs.existsSync(dir) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(fs.readdirSync(dir).sort()).toEqual(["coreBundle.js.v8", "utilsBundle.js.v8"]);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o755);
    for (const f of fs.readdirSync(dir)) {
      expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o644);
    }
    // Nothing half-written is left beside it.
    expect(fs.readdirSync(staged.runner!).filter((f) => f.includes("partial"))).toEqual([]);
  });

  it("is taken by V8 in a runner with the runners' flags", () => {
    const flags = nodeRuntime.warmUp!(staged).slice(1, -3);
    expect(loadWith(flags)).toEqual({ rejected: [], loaded: true });
  });

  it("is refused under other flags, and Playwright loads all the same", () => {
    const other = loadWith(["--max-old-space-size=100"]);
    expect(other.rejected.sort()).toEqual(["coreBundle.js", "utilsBundle.js"]);
    expect(other.loaded).toBe(true);
  });
});

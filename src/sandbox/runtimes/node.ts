import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { prepareCode } from "./node-transform.js";
import type { LanguageRuntime, PreparedRun, RunnerContext } from "./runtime.js";
import { DEFAULT_MEMORY_LIMIT_MB } from "../worker.js";

/**
 * Flags for node itself: a bounded heap, and warnings go to the run's stderr, not ours. Every
 * session has a worker, so its memory counts: a 1 MB young generation and no V8 helper threads
 * take about 30 MB off each (from about 100 MB) for a slower start, which the warm pool hides.
 */
function nodeArgs(memoryLimitMb: number): string[] {
  return [
    `--max-old-space-size=${Math.max(64, Math.floor(memoryLimitMb / 2))}`,
    "--max-semi-space-size=1",
    "--single-threaded",
    "--no-warnings",
  ];
}

/**
 * Node: a persistent vm context (runtimes/node/runner.mjs) with Playwright's `page`, `context`
 * and `browser`; code is rewritten on the server (node-transform.ts) so top-level bindings persist.
 */
export const nodeRuntime: LanguageRuntime = {
  language: "node",
  files() {
    const require = createRequire(import.meta.url);
    return {
      runner: fileURLToPath(new URL("./node/", import.meta.url)),
      shared: fileURLToPath(new URL("./shared/", import.meta.url)),
      "playwright-core": path.dirname(require.resolve("playwright-core/package.json")),
    };
  },
  mounts: {
    runner: "/opt/fc/runner",
    shared: "/opt/fc/shared",
    // Beside a node_modules folder, so the runner's `import("playwright-core")` finds it.
    "playwright-core": "/opt/fc/node_modules/playwright-core",
  },
  sockets: ["cdp", "playwright-host"],
  // V8 takes a code cache only from a process with the same flags: the runners' defaults.
  warmUp: (staged) => [
    fs.realpathSync(process.execPath),
    ...nodeArgs(DEFAULT_MEMORY_LIMIT_MB),
    path.join(staged.runner!, "make-code-cache.mjs"),
    staged["playwright-core"]!,
    path.join(staged.runner!, "code-cache"),
  ],
  binaries: () => [fs.realpathSync(process.execPath)],
  argv(ctx: RunnerContext): string[] {
    return [
      fs.realpathSync(process.execPath),
      ...nodeArgs(ctx.memoryLimitMb),
      path.join(ctx.files.runner!, "runner.mjs"),
      ctx.sockets.cdp!,
      String(ctx.outputLimit),
      ...(ctx.reap ? ["reap"] : []),
      ...(ctx.sockets["playwright-host"] ? [`python-host=${ctx.sockets["playwright-host"]}`] : []),
    ];
  },
  prepare(code: string): PreparedRun {
    const prepared = prepareCode(code);
    if (!prepared.ok) return prepared;
    return { ok: true, request: { kind: prepared.kind, code: prepared.code } };
  },
  unavailable: () => undefined,
};

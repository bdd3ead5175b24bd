import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LanguageRuntime, PreparedRun, RunnerContext } from "./runtime.js";

/** agent-browser's own build for this machine, shipped in its npm package. */
function agentBrowserBinary(): string | undefined {
  const arch = { x64: "x64", arm64: "arm64" }[process.arch as string];
  if (process.platform !== "linux" || !arch) return undefined;
  try {
    const require = createRequire(import.meta.url);
    const pkg = path.dirname(require.resolve("agent-browser/package.json"));
    const bin = path.join(pkg, "bin", `agent-browser-linux-${arch}`);
    fs.accessSync(bin, fs.constants.X_OK);
    return bin;
  } catch {
    return undefined;
  }
}

/**
 * bash: each call is a script run by bash in its own process group (runtimes/bash/runner.mjs),
 * with the system's shell tools and agent-browser on PATH, pointed at the session's browser.
 */
export const bashRuntime: LanguageRuntime = {
  language: "bash",
  files() {
    const bin = agentBrowserBinary();
    if (!bin) throw new Error("agent-browser is not installed");
    return {
      runner: fileURLToPath(new URL("./bash/", import.meta.url)),
      shared: fileURLToPath(new URL("./shared/", import.meta.url)),
      "agent-browser": bin,
    };
  },
  mounts: {
    runner: "/opt/fc/runner",
    shared: "/opt/fc/shared",
    "agent-browser": "/opt/fc/bin/agent-browser",
  },
  sockets: [],
  binaries: () => [fs.realpathSync(process.execPath)],
  argv(ctx: RunnerContext): string[] {
    return [
      fs.realpathSync(process.execPath),
      "--max-old-space-size=64",
      path.join(ctx.files.runner!, "runner.mjs"),
      String(ctx.outputLimit),
      ctx.files["agent-browser"]!,
      ...(ctx.reap ? ["reap"] : []),
    ];
  },
  prepare: (code: string): PreparedRun => ({ ok: true, request: { code } }),
  unavailable() {
    if (!fs.existsSync("/bin/bash")) return "bash is not installed on this server.";
    if (!agentBrowserBinary()) {
      return "agent-browser is not installed for this platform: run `npm run setup`.";
    }
    return undefined;
  },
};

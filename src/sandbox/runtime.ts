import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

let staged: { runnerDir: string; playwrightDir: string } | undefined;

/**
 * The folder holding one server's sandbox scratch folders and runtime copy. It sits in the
 * system temp folder rather than DATA_DIR because the unprivileged sandbox user must be able to
 * reach it, and DATA_DIR or the project may live under a folder it cannot enter (e.g. /root).
 * Named after DATA_DIR so that two servers never share one, and the reaper can find it.
 */
export function sandboxRoot(dataDir: string): string {
  const tag = createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 12);
  return path.join(os.tmpdir(), `fc-sandbox-${tag}`);
}

/**
 * Copies the runner and playwright-core into `root/runtime`, readable by the sandbox user, and
 * makes later workers bind-mount the copy instead of the project's files.
 */
export function stageRuntime(
  root: string,
  from: { runnerDir: string; playwrightDir: string },
): void {
  fs.mkdirSync(root, { recursive: true, mode: 0o711 });
  fs.chmodSync(root, 0o711);
  const target = path.join(root, "runtime");
  fs.rmSync(target, { recursive: true, force: true });
  const runnerDir = path.join(target, "runner");
  const playwrightDir = path.join(target, "playwright-core");
  fs.cpSync(from.runnerDir, runnerDir, { recursive: true });
  fs.cpSync(from.playwrightDir, playwrightDir, { recursive: true, dereference: true });
  openForReading(target);
  staged = { runnerDir: runnerDir + path.sep, playwrightDir };
}

/** The staged runtime, when stageRuntime ran in this process. */
export function stagedRuntime(): { runnerDir: string; playwrightDir: string } | undefined {
  return staged;
}

function openForReading(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) openForReading(p);
    else if (entry.isFile()) fs.chmodSync(p, 0o644);
  }
}

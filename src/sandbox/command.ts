import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { dropToUid, findOnHost, systemMounts, tryFindOnHost } from "../isolation/host.js";
import { stagedRuntime } from "./runtime.js";

/** How to start one runner process. */
export interface RunnerCommand {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface RunnerLimits {
  /** Data segment limit (RLIMIT_DATA); the V8 heap gets half of it. */
  memoryLimitMb: number;
  /** RLIMIT_NPROC inside the sandbox: threads count too, node alone uses about 12. */
  maxProcesses: number;
  /** Per-stream and result bound, in characters. */
  outputLimit: number;
}

export interface CommandOptions extends RunnerLimits {
  scratchDir: string;
  cdpSocketPath: string;
  /** Switch to this uid/gid before entering the sandbox (only when running as root). */
  uid?: number;
}

/** Where the runner and the one package it imports live inside the sandbox. */
const SANDBOX_RUNNER_DIR = "/opt/fc/runner";
const SANDBOX_PLAYWRIGHT_DIR = "/opt/fc/node_modules/playwright-core";
const SANDBOX_SOCKET = "/run/cdp.sock";
const SANDBOX_HOME = "/work";
const TMPFS_TMP_BYTES = 32 * 1024 * 1024;
const TMPFS_WORK_BYTES = 64 * 1024 * 1024;
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const SYSTEM_PATH = "/usr/bin:/bin";

/** The host paths the runner needs, resolved once. */
export function runnerPaths(): { runnerDir: string; playwrightDir: string; nodePath: string } {
  return { ...(stagedRuntime() ?? projectRuntime()), nodePath: fs.realpathSync(process.execPath) };
}

/** The runner and playwright-core where the project keeps them. */
export function projectRuntime(): { runnerDir: string; playwrightDir: string } {
  const require = createRequire(import.meta.url);
  return {
    runnerDir: fileURLToPath(new URL("./node/", import.meta.url)),
    playwrightDir: path.dirname(require.resolve("playwright-core/package.json")),
  };
}

/** Flags for node itself: a bounded heap, and warnings go to the run's stderr, not ours. */
function nodeArgs(memoryLimitMb: number): string[] {
  return [`--max-old-space-size=${Math.max(64, Math.floor(memoryLimitMb / 2))}`, "--no-warnings"];
}

/**
 * RLIMIT_DATA rather than RLIMIT_AS: V8 reserves 10 GB of address space for each WebAssembly
 * memory (guard regions; undici's HTTP parser is one), so an AS limit low enough to matter
 * stops Playwright from connecting. DATA counts only writable private memory actually mapped.
 */
function prlimitArgs(limits: RunnerLimits, withNproc: boolean): string[] {
  const mb = 1024 * 1024;
  return [
    ...(withNproc ? [`--nproc=${limits.maxProcesses}`] : []),
    `--data=${limits.memoryLimitMb * mb}`,
    `--fsize=${MAX_FILE_BYTES}`,
    "--nofile=256",
    "--core=0",
    "--",
  ];
}

/**
 * The bubblewrap command: no network, no view of other processes, a read-only root with only
 * /usr (and its /lib, /bin links), node, the runner, playwright-core and the CDP socket;
 * /work and /tmp are small tmpfs, the only writable places. rlimits are set by prlimit *inside* the sandbox
 * so that RLIMIT_NPROC counts the sandbox's own user namespace, not every process of the uid.
 */
export function bwrapCommand(opts: CommandOptions): RunnerCommand {
  const paths = runnerPaths();
  const prlimit = findOnHost("prlimit");
  const args: string[] = [
    "--die-with-parent",
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--new-session",
    "--hostname",
    "sandbox",
    ...systemMounts(),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--size",
    String(TMPFS_TMP_BYTES),
    "--tmpfs",
    "/tmp",
    "--size",
    String(TMPFS_WORK_BYTES),
    "--tmpfs",
    SANDBOX_HOME,
    ...(paths.nodePath.startsWith("/usr/") ? [] : ["--ro-bind", paths.nodePath, paths.nodePath]),
    "--ro-bind",
    paths.runnerDir,
    SANDBOX_RUNNER_DIR,
    "--ro-bind",
    paths.playwrightDir,
    SANDBOX_PLAYWRIGHT_DIR,
    // The socket's host path (under the scratch dir) also marks the process for the reaper.
    "--ro-bind",
    opts.cdpSocketPath,
    SANDBOX_SOCKET,
    // bubblewrap's root and /dev are tmpfs without a size: read-only, so /work and /tmp, which
    // have one, are the only places a run can write.
    "--remount-ro",
    "/dev",
    "--remount-ro",
    "/",
    "--chdir",
    SANDBOX_HOME,
    "--clearenv",
    "--setenv",
    "PATH",
    SYSTEM_PATH,
    "--setenv",
    "HOME",
    SANDBOX_HOME,
    "--setenv",
    "TZ",
    "UTC",
    "--",
    prlimit,
    ...prlimitArgs(opts, true),
    paths.nodePath,
    ...nodeArgs(opts.memoryLimitMb),
    `${SANDBOX_RUNNER_DIR}/runner.mjs`,
    SANDBOX_SOCKET,
    String(opts.outputLimit),
    "reap",
  ];
  const bwrap = findOnHost("bwrap");
  const env = { PATH: SYSTEM_PATH };
  if (opts.uid === undefined) return { file: bwrap, args, cwd: opts.scratchDir, env };
  const [setpriv, ...drop] = dropToUid(opts.uid);
  return { file: setpriv!, args: [...drop, bwrap, ...args], cwd: "/", env };
}

/**
 * SANDBOX=none: the runner as a plain child process. No isolation at all: it sees the network,
 * the file system and every process this server can see. Only memory and file limits apply.
 */
export function plainCommand(opts: CommandOptions): RunnerCommand {
  const paths = runnerPaths();
  const node = [
    paths.nodePath,
    ...nodeArgs(opts.memoryLimitMb),
    path.join(paths.runnerDir, "runner.mjs"),
    opts.cdpSocketPath,
    String(opts.outputLimit),
  ];
  const env = { PATH: SYSTEM_PATH, HOME: opts.scratchDir, TZ: "UTC" };
  const prlimit = tryFindOnHost("prlimit");
  return prlimit
    ? { file: prlimit, args: [...prlimitArgs(opts, false), ...node], cwd: opts.scratchDir, env }
    : { file: node[0]!, args: node.slice(1), cwd: opts.scratchDir, env };
}

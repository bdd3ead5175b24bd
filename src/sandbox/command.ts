import fs from "node:fs";
import { handoffPrefix } from "../isolation/handoff.js";
import { dropToUid, findOnHost, systemMounts, tryFindOnHost } from "../isolation/host.js";
import type { SessionSocket } from "./runtimes/runtime.js";
import type { ReadyRuntime } from "./runtimes/staging.js";

/** How to start one runner process. */
export interface RunnerCommand {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** The command hands out a listener for the sandbox's CDP port at start (bubblewrap only). */
  handsOutCdpPort?: boolean;
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
  runtime: ReadyRuntime;
  scratchDir: string;
  /** The session's sockets on the host (the sandbox's only ways out); each runtime gets its own. */
  sockets: Partial<Record<SessionSocket, string>>;
  /** Switch to this uid/gid before entering the sandbox (only when running as root). */
  uid?: number;
}

/** Where each session socket appears inside a sandbox whose runtime uses it. */
export const SANDBOX_SOCKETS: Record<SessionSocket, string> = {
  cdp: "/run/cdp.sock",
  playwright: "/run/playwright.sock",
  "playwright-host": "/run/playwright-host.sock",
};
/**
 * The session's browser as a debugging port, inside the sandbox's own network namespace, for
 * tools that only speak CDP over TCP: `http://127.0.0.1:9222` (also in `BROWSER_CDP_URL`).
 */
export const SANDBOX_CDP_PORT = 9222;
const SANDBOX_HOME = "/work";
const TMPFS_TMP_BYTES = 32 * 1024 * 1024;
const TMPFS_WORK_BYTES = 64 * 1024 * 1024;
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const SYSTEM_PATH = "/usr/bin:/bin";

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
 * /usr (and its /lib, /bin links), the runtime's binaries and staged files, and the session's
 * CDP socket; /work and /tmp are small tmpfs, the only writable places. rlimits are set by
 * prlimit *inside* the sandbox so that RLIMIT_NPROC counts the sandbox's own user namespace,
 * not every process of the uid.
 */
export function bwrapCommand(opts: CommandOptions): RunnerCommand {
  const { runtime } = opts.runtime;
  const prlimit = findOnHost("prlimit");
  const binds: string[] = [];
  // Node runs the one-shot helper that hands the CDP port out, whatever the language.
  for (const bin of new Set([nodePath(), ...runtime.binaries()])) {
    if (!bin.startsWith("/usr/")) binds.push("--ro-bind", bin, bin);
  }
  for (const [name, hostPath] of Object.entries(opts.runtime.files)) {
    binds.push("--ro-bind", hostPath, runtime.mounts[name]!);
  }
  const sockets: Partial<Record<SessionSocket, string>> = {};
  for (const name of runtime.sockets) {
    const hostPath = opts.sockets[name];
    if (!hostPath) continue; // not served in this session (a test's bare worker)
    binds.push("--ro-bind", hostPath, SANDBOX_SOCKETS[name]);
    sockets[name] = SANDBOX_SOCKETS[name];
  }
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
    // The sockets' host paths (under the scratch dir) also mark the process for the reaper.
    ...binds,
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
    "--setenv",
    "BROWSER_CDP_URL",
    `http://127.0.0.1:${SANDBOX_CDP_PORT}`,
    "--",
    // Before the runner: the CDP port is made in the sandbox's namespace and handed out.
    ...handoffPrefix(nodePath(), SANDBOX_CDP_PORT, "cdp"),
    prlimit,
    ...prlimitArgs(opts, true),
    ...runtime.argv({
      sockets,
      files: runtime.mounts,
      memoryLimitMb: opts.memoryLimitMb,
      outputLimit: opts.outputLimit,
      reap: true,
    }),
  ];
  const bwrap = findOnHost("bwrap");
  const env = { PATH: SYSTEM_PATH };
  const handsOutCdpPort = true;
  if (opts.uid === undefined)
    return { file: bwrap, args, cwd: opts.scratchDir, env, handsOutCdpPort };
  const [setpriv, ...drop] = dropToUid(opts.uid);
  return { file: setpriv!, args: [...drop, bwrap, ...args], cwd: "/", env, handsOutCdpPort };
}

/**
 * SANDBOX=none: the runner as a plain child process. No isolation at all: it sees the network,
 * the file system and every process this server can see. Only memory and file limits apply.
 */
export function plainCommand(opts: CommandOptions): RunnerCommand {
  const { runtime } = opts.runtime;
  const sockets = Object.fromEntries(runtime.sockets.map((name) => [name, opts.sockets[name]]));
  const argv = runtime.argv({
    sockets,
    files: opts.runtime.files,
    memoryLimitMb: opts.memoryLimitMb,
    outputLimit: opts.outputLimit,
    reap: false,
  });
  const env = { PATH: SYSTEM_PATH, HOME: opts.scratchDir, TZ: "UTC" };
  const prlimit = tryFindOnHost("prlimit");
  return prlimit
    ? { file: prlimit, args: [...prlimitArgs(opts, false), ...argv], cwd: opts.scratchDir, env }
    : { file: argv[0]!, args: argv.slice(1), cwd: opts.scratchDir, env };
}

/** This server's own Node, which every sandbox can run (it is bound in read-only). */
function nodePath(): string {
  return fs.realpathSync(process.execPath);
}

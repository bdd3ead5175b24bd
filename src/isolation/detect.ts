import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { dropToUid, systemMounts, tryFindOnHost } from "./host.js";
import { acquireWorkerUid } from "./uid-pool.js";

export type SandboxMode = "bwrap" | "none";

/** Why no sandbox works here: one line a client may read, and the whole story for the log. */
export interface SandboxUnavailable {
  /** What the operator must fix, in general terms ("bubblewrap is not installed"). */
  reason: string;
  /** What the probe saw, a tool's own error output included. For the server log only. */
  detail: string;
}

export type SandboxDetection = SandboxMode | { unavailable: SandboxUnavailable };

export interface SandboxDetectorOptions {
  /** bubblewrap to use; default: `bwrap` from the system folders. Tests point it elsewhere. */
  bwrapPath?: string;
}

const PROBE_TIMEOUT_MS = 5_000;

/**
 * Decides how user code is isolated. `auto` and `bwrap` both need a working bubblewrap, tried
 * once for real with the same namespaces and uid switch a worker uses; if it fails the answer
 * is `unavailable`, which the caller reports as 503 for code runs rather than running code
 * unprotected. `none` runs code without any isolation (the caller says so loudly). The server
 * makes one and keeps it: the probe runs once per detector, never at import.
 */
export class SandboxDetector {
  private probed: SandboxUnavailable | undefined | null = null;
  /** The bubblewrap binary the probe ran, and browsers' jails use; undefined when none. */
  readonly bwrapPath: string | undefined;

  constructor(opts: SandboxDetectorOptions = {}) {
    this.bwrapPath = opts.bwrapPath ?? tryFindOnHost("bwrap");
  }

  /** The sandbox for SANDBOX=`configMode`, or why there is none. */
  detect(configMode: "auto" | "bwrap" | "none"): SandboxDetection {
    if (configMode === "none") return "none";
    const unavailable = this.probe();
    return unavailable ? { unavailable } : "bwrap";
  }

  /** Whether bubblewrap works here, whatever SANDBOX says (browsers are jailed when it does). */
  bwrapWorks(): boolean {
    return this.probe() === undefined;
  }

  private probe(): SandboxUnavailable | undefined {
    if (this.probed === null) this.probed = probeBwrap(this.bwrapPath);
    return this.probed;
  }
}

/** Runs node inside the sandbox once; returns why it failed, or undefined when it worked. */
function probeBwrap(bwrap: string | undefined): SandboxUnavailable | undefined {
  if (!bwrap || !isExecutable(bwrap)) {
    return missing(
      "bubblewrap is not installed",
      `no ${bwrap ?? "bwrap in the system folders"}; install bubblewrap or set SANDBOX=none`,
    );
  }
  const prlimit = tryFindOnHost("prlimit");
  if (!prlimit) return missing("prlimit (util-linux) is not installed", "install util-linux");
  const node = fs.realpathSync(process.execPath);
  const lease = acquireWorkerUid();
  const setpriv = lease ? tryFindOnHost("setpriv") : undefined;
  if (lease && !setpriv) {
    lease.release();
    return missing(
      "setpriv (util-linux) is not installed",
      "install util-linux: setpriv drops root for the sandbox",
    );
  }
  const sandbox = [
    bwrap,
    "--die-with-parent",
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--new-session",
    ...systemMounts(),
    ...(node.startsWith("/usr/") ? [] : ["--ro-bind", node, node]),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--clearenv",
    "--",
    prlimit,
    "--nproc=64",
    "--",
    node,
    "-e",
    "process.stdout.write('ok')",
  ];
  const argv = lease && setpriv ? [...dropToUid(lease.uid), ...sandbox] : sandbox;
  const failed = (detail: string): SandboxUnavailable => ({
    reason: "bubblewrap cannot create a sandbox on this machine (are user namespaces disabled?)",
    detail: `bwrap probe failed: ${detail}`,
  });
  try {
    const r = spawnSync(argv[0]!, argv.slice(1), {
      encoding: "utf8",
      timeout: PROBE_TIMEOUT_MS,
      env: { PATH: "/usr/bin:/bin" },
      maxBuffer: 64 * 1024,
    });
    if (r.error) return failed(r.error.message);
    if (r.status === 0 && r.stdout === "ok") return undefined;
    return failed(`exit ${r.status ?? r.signal}: ${r.stderr.trim().slice(0, 500)}`);
  } finally {
    lease?.release();
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function missing(what: string, fix: string): SandboxUnavailable {
  return { reason: what, detail: `${what}: ${fix}` };
}

/**
 * What a client is told when its code cannot run here: no tool's own output, which may name
 * paths, users or kernel settings of this machine; the operator finds that in the log.
 */
export function sandboxUnavailableMessage(u: SandboxUnavailable): string {
  return `Code execution is unavailable on this server: no working sandbox (${u.reason}). The server's log has the details.`;
}

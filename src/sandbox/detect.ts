import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { dropToUid, systemMounts, tryFindOnHost } from "../isolation/host.js";
import { acquireWorkerUid } from "../isolation/uid-pool.js";

export type SandboxMode = "bwrap" | "none";
export type SandboxDetection = SandboxMode | { unavailable: string };

const PROBE_TIMEOUT_MS = 5_000;
let cached: { mode: string; result: SandboxDetection } | undefined;

/**
 * Decides how user code is isolated. `auto` and `bwrap` both need a working bubblewrap (tried
 * once for real, with the same namespaces and uid switch a worker uses); if it fails the answer
 * is `unavailable` with the reason, which the caller reports as 503 for code runs rather than
 * running code unprotected. `none` runs code without any isolation and says so loudly.
 */
export function detectSandbox(
  configMode: "auto" | "bwrap" | "none",
  log: (msg: string) => void = () => {},
): SandboxDetection {
  if (cached?.mode === configMode) return cached.result;
  let result: SandboxDetection;
  if (configMode === "none") {
    log(
      "WARNING: SANDBOX=none. Interact code runs as this server's user with its network, files " +
        "and processes in reach. Use it only on a machine where every caller is trusted.",
    );
    result = "none";
  } else {
    const reason = probeBwrap();
    result = reason === undefined ? "bwrap" : { unavailable: reason };
    if (reason !== undefined) log(`sandbox unavailable (SANDBOX=${configMode}): ${reason}`);
  }
  cached = { mode: configMode, result };
  return result;
}

/** Runs node inside the sandbox once; returns why it failed, or undefined when it worked. */
function probeBwrap(): string | undefined {
  const bwrap = tryFindOnHost("bwrap");
  if (!bwrap) return "bubblewrap (bwrap) is not installed; install it or set SANDBOX=none";
  const prlimit = tryFindOnHost("prlimit");
  if (!prlimit) return "prlimit (util-linux) is not installed";
  const node = fs.realpathSync(process.execPath);
  const lease = acquireWorkerUid();
  const setpriv = lease ? tryFindOnHost("setpriv") : undefined;
  if (lease && !setpriv) {
    lease.release();
    return "setpriv (util-linux) is not installed; it is needed to drop root for the sandbox";
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
  try {
    const r = spawnSync(argv[0]!, argv.slice(1), {
      encoding: "utf8",
      timeout: PROBE_TIMEOUT_MS,
      env: { PATH: "/usr/bin:/bin" },
      maxBuffer: 64 * 1024,
    });
    if (r.error) return `bwrap probe failed: ${r.error.message}`;
    if (r.status === 0 && r.stdout === "ok") return undefined;
    return `bwrap probe failed (exit ${r.status ?? r.signal}): ${r.stderr.trim().slice(0, 500)}`;
  } finally {
    lease?.release();
  }
}

/** Forgets the cached probe result (tests, or after installing bubblewrap). */
export function resetSandboxDetection(): void {
  cached = undefined;
}

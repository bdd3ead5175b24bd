import fs from "node:fs";
import type { Store } from "../store/repositories.js";
import { checkMemory, type MemoryCheck } from "./memory.js";

export interface DiskCheck {
  ok: boolean;
  /** Bytes an unprivileged writer may still use in DATA_DIR; null when it could not be read. */
  freeBytes: number | null;
  minFreeBytes: number;
}

export interface HealthChecks {
  disk: DiskCheck;
  /** Answers a query, and takes a write. */
  database: { ok: boolean; writable?: boolean };
  /** A Chromium binary is there to launch. */
  chromium: { ok: boolean; error?: string };
  /** User code can run isolated (bwrap), or unisolated by the operator's choice (none). */
  sandbox: { ok: boolean; mode: string };
  /** Warm browsers waiting (informational: an empty pool only makes a first call slower). */
  pool: { ok: true; ready: number; launching: number; target: number; size: number };
  /** Enough memory left for a new session before the kernel's OOM killer would pick a process. */
  memory: MemoryCheck;
  /** Not draining: a draining server starts no new session and is leaving. */
  draining: { ok: boolean };
}

/** What the health checks look at besides the disk and the database. */
export interface HealthSources {
  chromium(): string | undefined;
  sandbox: string;
  /** Whether the server drains (SIGTERM, or the admin command). */
  draining(): boolean;
  pool(): { ready: number; launching: number; target: number; size: number };
}

/** Free space in dir against the configured floor. Every scrape writes there. */
export function checkDisk(dir: string, minFreeBytes: number): DiskCheck {
  try {
    const stats = fs.statfsSync(dir);
    const freeBytes = stats.bavail * stats.bsize;
    return { ok: freeBytes >= minFreeBytes, freeBytes, minFreeBytes };
  } catch {
    return { ok: false, freeBytes: null, minFreeBytes };
  }
}

/** Whether the database answers a trivial query and takes a small write. */
export async function checkDatabase(
  store: Pick<Store, "ping" | "cache">,
): Promise<{ ok: boolean; writable?: boolean }> {
  try {
    await store.ping();
  } catch {
    return { ok: false };
  }
  try {
    await store.cache.put("health:write-probe", { at: Date.now() });
    return { ok: true, writable: true };
  } catch {
    return { ok: false, writable: false };
  }
}

/** Everything a scrape needs besides the browser; healthy only when every check is ok. */
export async function runHealthChecks(deps: {
  dataDir: string;
  minFreeDiskBytes: number;
  minFreeMemoryBytes: number;
  store: Pick<Store, "ping" | "cache">;
  sources: HealthSources;
}): Promise<{ healthy: boolean; checks: HealthChecks }> {
  const chromiumError = deps.sources.chromium();
  const checks: HealthChecks = {
    disk: checkDisk(deps.dataDir, deps.minFreeDiskBytes),
    database: await checkDatabase(deps.store),
    chromium: chromiumError ? { ok: false, error: chromiumError } : { ok: true },
    sandbox: { ok: deps.sources.sandbox !== "unavailable", mode: deps.sources.sandbox },
    pool: { ok: true, ...deps.sources.pool() },
    memory: checkMemory(deps.minFreeMemoryBytes),
    draining: { ok: !deps.sources.draining() },
  };
  return { healthy: Object.values(checks).every((c) => c.ok), checks };
}

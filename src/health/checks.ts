import fs from "node:fs";
import type { Store } from "../store/repositories.js";

export interface DiskCheck {
  ok: boolean;
  /** Bytes an unprivileged writer may still use in DATA_DIR; null when it could not be read. */
  freeBytes: number | null;
  minFreeBytes: number;
}

export interface HealthChecks {
  disk: DiskCheck;
  database: { ok: boolean };
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

/** Whether the database answers a trivial query. */
export async function checkDatabase(store: Pick<Store, "ping">): Promise<{ ok: boolean }> {
  try {
    await store.ping();
    return { ok: true };
  } catch {
    return { ok: false };
  }
}

/** Everything a scrape needs besides the browser; healthy only when every check is ok. */
export async function runHealthChecks(deps: {
  dataDir: string;
  minFreeDiskBytes: number;
  store: Pick<Store, "ping">;
}): Promise<{ healthy: boolean; checks: HealthChecks }> {
  const checks: HealthChecks = {
    disk: checkDisk(deps.dataDir, deps.minFreeDiskBytes),
    database: await checkDatabase(deps.store),
  };
  return { healthy: Object.values(checks).every((c) => c.ok), checks };
}

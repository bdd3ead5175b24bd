import { pidsMentioning } from "./process-table.js";
import { killPid } from "./signal.js";

/**
 * Kills processes left behind by an earlier run that died without cleaning up (SIGKILL, OOM).
 * A process is ours when its command line names a path under one of `markers` (our profile
 * and sandbox folders), so another program's Chromium is never touched.
 */
export function reapOrphans(markers: string[]): number {
  return pidsMentioning(markers).filter((pid) => killPid(pid)).length;
}

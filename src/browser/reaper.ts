import { allPids, commandLine } from "./process-table.js";

/**
 * Kills processes left behind by an earlier run that died without cleaning up (SIGKILL, OOM).
 * A process is ours when its command line names a path under one of `markers` (our profile
 * and sandbox folders), so another program's Chromium is never touched.
 */
export function reapOrphans(markers: string[]): number {
  let killed = 0;
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    const cmdline = commandLine(pid);
    if (cmdline === undefined || !markers.some((m) => cmdline.includes(m))) continue;
    try {
      process.kill(pid, "SIGKILL");
      killed++;
    } catch {
      // already gone
    }
  }
  return killed;
}

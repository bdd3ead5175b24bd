import fs from "node:fs";

/**
 * Kills processes left behind by an earlier run that died without cleaning up (SIGKILL, OOM).
 * A process is ours when its command line names a path under one of `markers` (our profile
 * and sandbox folders under DATA_DIR), so another program's Chromium is never touched.
 */
export function reapOrphans(markers: string[]): number {
  let killed = 0;
  let pids: string[] = [];
  try {
    pids = fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return 0; // not Linux: nothing we can scan
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (markers.some((m) => cmdline.includes(m))) {
      try {
        process.kill(Number(pid), "SIGKILL");
        killed++;
      } catch {
        // already gone
      }
    }
  }
  return killed;
}

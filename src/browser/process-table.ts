import fs from "node:fs";

/** Pids of every process visible in /proc; empty where there is no /proc (not Linux). */
export function allPids(): number[] {
  try {
    return fs
      .readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
}

/** A process's command line, arguments joined by NUL; undefined once it is gone. */
export function commandLine(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return undefined;
  }
}

/** A process's state letter (R, S, Z, ...), parent and group; undefined once it is gone. */
export function processStat(
  pid: number,
): { state: string; ppid: number; pgrp: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: fields start after the last ")".
    const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: state ?? "", ppid: Number(ppid), pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

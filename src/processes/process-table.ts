import fs from "node:fs";

/**
 * The one reader of /proc: which processes exist, how they relate and what they are. Everything
 * returns "nothing" (empty, undefined) where there is no /proc (not Linux) or for a process that
 * is gone by the time it is read.
 */

/** What /proc/<pid>/stat says about one process. */
export interface ProcessStat {
  /** State letter: R, S, D, Z (zombie: exited, waiting to be reaped), ... */
  state: string;
  ppid: number;
  pgrp: number;
  /** Start time in clock ticks since boot: tells a process from a later one with its pid. */
  startTime: number;
  /** CPU time used so far, user plus system, in clock ticks. */
  cpuTicks: number;
}

/** Clock ticks per second in /proc (USER_HZ), 100 on every Linux this runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;

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
  return read(`/proc/${pid}/cmdline`);
}

/** A process's state, parent, group, start time and CPU use; undefined once it is gone. */
export function processStat(pid: number): ProcessStat | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name may hold spaces and parentheses: fields start after the last ")".
  // From there, index 0 is field 3 (state) of proc(5).
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    state: f[0] ?? "",
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    cpuTicks: Number(f[11]) + Number(f[12]),
    startTime: Number(f[19]),
  };
}

/** A process's real uid; undefined once it is gone. */
export function processUid(pid: number): number | undefined {
  const m = /^Uid:\s+(\d+)/m.exec(read(`/proc/${pid}/status`) ?? "");
  return m ? Number(m[1]) : undefined;
}

/** A process's proportional set size (shared pages split among their users), in bytes. */
export function pssBytes(pid: number): number | undefined {
  const m = /^Pss:\s+(\d+) kB/m.exec(read(`/proc/${pid}/smaps_rollup`) ?? "");
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Whether a process runs: it exists and is not a zombie (which holds no memory, runs nothing). */
export function isRunning(pid: number, startTime?: number): boolean {
  const stat = processStat(pid);
  if (!stat || stat.state === "Z") return false;
  // The pid now belongs to a later process: the one we meant is gone.
  return startTime === undefined || stat.startTime === startTime;
}

/** One read of every process's stat, by pid. */
export function processTable(): Map<number, ProcessStat> {
  const table = new Map<number, ProcessStat>();
  for (const pid of allPids()) {
    const stat = processStat(pid);
    if (stat) table.set(pid, stat);
  }
  return table;
}

/** Every running (not zombie) process below pid in the process tree. */
export function descendants(pid: number, table = processTable()): number[] {
  const children = new Map<number, number[]>();
  for (const [p, stat] of table) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), p]);
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      if (table.get(c)?.state !== "Z") out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** The mount namespace a process is in (as /proc names it), undefined once it is gone. */
export function mountNamespace(pid: number | "self"): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/** Running members of a process group. */
export function groupMembers(pgid: number): number[] {
  return allPids().filter((pid) => {
    const stat = processStat(pid);
    return stat !== undefined && stat.pgrp === pgid && stat.state !== "Z";
  });
}

/** Running processes whose command line contains one of `markers`. */
export function pidsMentioning(markers: string[]): number[] {
  if (markers.length === 0) return [];
  return allPids().filter((pid) => {
    const cmd = commandLine(pid);
    return cmd !== undefined && markers.some((m) => cmd.includes(m)) && isRunning(pid);
  });
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

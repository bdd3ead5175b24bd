import fs from "node:fs";
import os from "node:os";

/** What `checkMemory` reports, in /health and as a refusal's details. */
export interface MemoryCheck {
  ok: boolean;
  /** Memory this node can still give out, in bytes. */
  availableBytes: number;
  minFreeBytes: number;
}

/**
 * Memory this node can still give out: the kernel's MemAvailable (what can be had without
 * swapping, reclaimable cache included), or what the server's cgroup still allows when that is
 * less (a container's limit is where its OOM killer strikes).
 */
export function availableMemoryBytes(): number {
  const host = meminfoAvailable() ?? os.freemem();
  const cgroup = cgroupRoom();
  return cgroup === undefined ? host : Math.min(host, cgroup);
}

/** Whether at least `minFreeBytes` are still available. */
export function checkMemory(minFreeBytes: number): MemoryCheck {
  const availableBytes = availableMemoryBytes();
  return { ok: availableBytes >= minFreeBytes, availableBytes, minFreeBytes };
}

function meminfoAvailable(): number | undefined {
  try {
    const kb = /^MemAvailable:\s+(\d+) kB$/m.exec(fs.readFileSync("/proc/meminfo", "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** cgroup v2: limit minus use, the use without file cache the kernel would drop first. */
function cgroupRoom(): number | undefined {
  try {
    const dir = `/sys/fs/cgroup${cgroupPath()}`;
    const max = fs.readFileSync(`${dir}/memory.max`, "utf8").trim();
    if (max === "max") return undefined;
    const current = Number(fs.readFileSync(`${dir}/memory.current`, "utf8"));
    const stat = fs.readFileSync(`${dir}/memory.stat`, "utf8");
    const inactiveFile = Number(/^inactive_file (\d+)$/m.exec(stat)?.[1] ?? 0);
    return Math.max(0, Number(max) - (current - inactiveFile));
  } catch {
    return undefined; // cgroup v1, or no limit to read
  }
}

/** This process's cgroup v2 path ("0::/path"). */
function cgroupPath(): string {
  const line = fs
    .readFileSync("/proc/self/cgroup", "utf8")
    .split("\n")
    .find((l) => l.startsWith("0::"));
  if (!line) throw new Error("not cgroup v2");
  return line.slice(3);
}

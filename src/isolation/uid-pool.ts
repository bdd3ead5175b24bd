import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { allPids, processUid } from "../processes/process-table.js";
import { killPid } from "../processes/signal.js";

/** An unprivileged uid (and the gid of the same number) held by one worker until released. */
export interface UidLease {
  readonly uid: number;
  readonly gid: number;
  /** Kills whatever still runs as this uid, then frees it. Safe to call twice. */
  release(): void;
}

export interface UidPoolOptions {
  /** First uid handed out; far above the ids a distribution gives to real users. */
  base?: number;
  /** How many uids to try. */
  size?: number;
  /** Where leases are recorded, shared by every server process on this machine. */
  lockDir?: string;
}

const DEFAULT_BASE = 200_000;
const DEFAULT_SIZE = 10_000;

/** True when this process can hand its workers other uids (it runs as root). */
export function canSwitchUid(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/**
 * Leases a uid no other worker on this machine holds, or undefined when not running as root.
 * One uid per worker makes the kernel's per-user counts (RLIMIT_NPROC) per worker and means
 * a worker that broke out of its sandbox is still nobody: no files, no other worker's processes.
 * A lease is a lock file holding the owner's pid, so several server processes (and test files
 * run in parallel) never share a uid, and a crashed server's leases can be taken over.
 */
export function acquireWorkerUid(opts: UidPoolOptions = {}): UidLease | undefined {
  if (!canSwitchUid()) return undefined;
  const base = opts.base ?? DEFAULT_BASE;
  const size = opts.size ?? DEFAULT_SIZE;
  const dir = opts.lockDir ?? defaultLockDir();
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });

  // Start at a random slot so concurrent servers rarely race for the same file.
  const start = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const uid = base + ((start + i) % size);
    const lock = path.join(dir, String(uid));
    if (!tryLock(lock)) continue;
    // Leftovers of a server that died holding this uid: they are orphans, end them.
    killUidProcesses(uid);
    let released = false;
    return {
      uid,
      gid: uid,
      release: () => {
        if (released) return;
        released = true;
        killUidProcesses(uid);
        fs.rmSync(lock, { force: true });
      },
    };
  }
  throw new Error(`No free sandbox uid in ${base}..${base + size - 1}`);
}

/**
 * Frees every lease whose owner process is gone (a server killed with SIGKILL), ending whatever
 * still runs as its uid. Leases of live servers are left alone. Returns how many were freed.
 */
export function releaseStaleUidLeases(opts: Pick<UidPoolOptions, "lockDir"> = {}): number {
  if (!canSwitchUid()) return 0;
  const dir = opts.lockDir ?? defaultLockDir();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0; // no lease was ever taken here
  }
  let freed = 0;
  for (const name of names) {
    const uid = Number(name);
    if (!Number.isInteger(uid)) continue;
    const lock = path.join(dir, name);
    let owner = NaN;
    try {
      owner = Number(fs.readFileSync(lock, "utf8"));
    } catch {
      continue; // being released right now
    }
    // Empty: being written by its taker this very moment. Never freed on a guess.
    if (!(Number.isInteger(owner) && owner > 0) || pidAlive(owner)) continue;
    killUidProcesses(uid);
    fs.rmSync(lock, { force: true });
    freed++;
  }
  return freed;
}

function defaultLockDir(): string {
  return path.join(os.tmpdir(), "fc-sandbox-uids");
}

function tryLock(lock: string): boolean {
  try {
    fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  let owner = NaN;
  try {
    owner = Number(fs.readFileSync(lock, "utf8"));
  } catch {
    return false; // being released right now: try another
  }
  if (owner === process.pid || (Number.isInteger(owner) && pidAlive(owner))) return false;
  // Stale: its owner is gone. Remove and race for it like any free slot.
  fs.rmSync(lock, { force: true });
  try {
    fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
    return true;
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** SIGKILLs every process whose real uid is `uid`; returns how many were signalled. */
export function killUidProcesses(uid: number): number {
  return allPids().filter((pid) => processUid(pid) === uid && killPid(pid)).length;
}

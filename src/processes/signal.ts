/**
 * The one place this server sends SIGKILL. A process group is how a launched process and what it
 * forked are killed as one (see launcher.ts); single pids are for what left its group.
 */

/** SIGKILLs every process of group pgid; false when none was left. */
export function killGroup(pgid: number): boolean {
  return sigkill(-pgid);
}

/** SIGKILLs one process; false when it was already gone. */
export function killPid(pid: number): boolean {
  return sigkill(pid);
}

function sigkill(target: number): boolean {
  if (!Number.isInteger(target) || Math.abs(target) <= 1 || Math.abs(target) === process.pid) {
    return false; // never ourselves, our own group or everything we may signal
  }
  try {
    process.kill(target, "SIGKILL");
    return true;
  } catch {
    return false; // gone already (ESRCH), or not ours to kill (EPERM)
  }
}

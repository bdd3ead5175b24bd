import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** Mounts a tmpfs of the given size (`64m`) on a new temporary folder and returns the folder. */
export function mountTmpfs(size: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fc-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "ignore" });
  } catch (err) {
    fs.rmdirSync(dir);
    throw err;
  }
  return dir;
}

/** Unmounts what mountTmpfs mounted and removes its folder. */
export function unmount(dir: string): void {
  execFileSync("umount", ["-l", dir], { stdio: "ignore" });
  fs.rmdirSync(dir);
}

/** Whether this process may mount a tmpfs (root, and mount allowed here); tried and undone. */
export const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    unmount(mountTmpfs("1m"));
    return true;
  } catch {
    return false;
  }
})();

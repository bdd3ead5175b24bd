import fs from "node:fs";
import path from "node:path";

const SEARCH = ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"];

/** The path of a system tool (bwrap, setpriv, prlimit), looked up in the system folders only. */
export function tryFindOnHost(name: string): string | undefined {
  for (const dir of SEARCH) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

/** As tryFindOnHost, but throws naming where it looked. */
export function findOnHost(name: string): string {
  const p = tryFindOnHost(name);
  if (!p) throw new Error(`${name} not found in ${SEARCH.join(", ")}`);
  return p;
}

/** bubblewrap arguments: /usr read-only; /lib, /lib64, /bin, /sbin as the links (or folders) they are here. */
export function systemMounts(): string[] {
  const out = ["--ro-bind", "/usr", "/usr"];
  for (const dir of ["/lib", "/lib64", "/lib32", "/bin", "/sbin"]) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dir);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) out.push("--symlink", fs.readlinkSync(dir), dir);
    else if (st.isDirectory()) out.push("--ro-bind", dir, dir);
  }
  return out;
}

/** bubblewrap arguments binding each existing path read-only at the same place; missing ones are skipped. */
export function readOnlyIfPresent(paths: string[]): string[] {
  return paths.filter((p) => fs.existsSync(p)).flatMap((p) => ["--ro-bind", p, p]);
}

/** Runs `argv` as `uid` (and the gid of the same number) with no supplementary groups: setpriv's prefix. */
export function dropToUid(uid: number): string[] {
  return [findOnHost("setpriv"), `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--"];
}

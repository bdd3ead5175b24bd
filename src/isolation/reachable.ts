import fs from "node:fs";
import path from "node:path";

/**
 * Throws a clear error when the unprivileged `uid` that bwrap runs as could not reach a path
 * the command bind-mounts (bwrap would fail with a bare "Permission denied"). Typical cause:
 * the project or DATA_DIR lives under a folder only root may enter, such as /root.
 */
export function checkReachable(bwrapArgs: string[], uid: number): void {
  for (let i = 0; i < bwrapArgs.length - 1; i++) {
    const flag = bwrapArgs[i];
    if (flag !== "--ro-bind" && flag !== "--bind") continue;
    const source = bwrapArgs[i + 1]!;
    const blocked = firstBlockedDir(source, uid);
    if (blocked) {
      throw new Error(
        `The sandbox user (uid ${uid}) cannot enter ${blocked}, needed for ${source}. ` +
          `Allow others to traverse it (chmod o+x) or move the project / DATA_DIR elsewhere.`,
      );
    }
  }
}

/** The first folder on the way to `target` that `uid` may not search, if any. */
function firstBlockedDir(target: string, uid: number): string | undefined {
  let dir = path.dirname(path.resolve(target));
  const chain: string[] = [];
  for (;;) {
    chain.unshift(dir);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const d of chain) {
    let st: fs.Stats;
    try {
      st = fs.statSync(d);
    } catch {
      return d;
    }
    const searchable =
      st.mode & 0o001 || (st.uid === uid && st.mode & 0o100) || (st.gid === uid && st.mode & 0o010);
    if (!searchable) return d;
  }
  return undefined;
}

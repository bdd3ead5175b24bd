import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";

/**
 * The folder holding one server's sandbox scratch folders and runtime copy. It sits in the
 * system temp folder rather than DATA_DIR because the unprivileged sandbox user must be able to
 * reach it, and DATA_DIR or the project may live under a folder it cannot enter (e.g. /root).
 * Named after DATA_DIR so that two servers never share one, and the reaper can find it.
 */
export function sandboxRoot(dataDir: string): string {
  const tag = createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 12);
  return path.join(os.tmpdir(), `fc-sandbox-${tag}`);
}

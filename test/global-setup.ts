import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * One temporary folder for the whole run, holding every test server's DATA_DIR, removed when
 * the run ends: test workers are ended without an exit event, so they cannot clean up behind
 * themselves.
 */
export default function setup(): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "fc-tests-"));
  process.env.FC_TEST_TMP = root;
  return () => fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
}

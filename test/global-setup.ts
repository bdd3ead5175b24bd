import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startPostgresCluster } from "./helpers/postgres.js";

/**
 * One temporary folder for the whole run, holding every test server's DATA_DIR, removed when
 * the run ends: test workers are ended without an exit event, so they cannot clean up behind
 * themselves. One PostgreSQL cluster for the run too, in that folder: each test file makes its
 * own databases on it (helpers/postgres.ts), which costs milliseconds where a cluster costs a
 * second or more.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "fc-tests-"));
  process.env.FC_TEST_TMP = root;
  const removeRoot = () => fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  let cluster;
  try {
    cluster = await startPostgresCluster(root);
  } catch (err) {
    removeRoot();
    throw err;
  }
  // Workers start after global setup, with a copy of this environment.
  process.env.FC_TEST_PG_URL = cluster.url;
  return async () => {
    try {
      await cluster.stop();
    } finally {
      removeRoot();
    }
  };
}

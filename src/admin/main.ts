import { ConfigError, loadConfig } from "../config/config.js";
import { openStore } from "../store/open.js";
import type { Store } from "../store/repositories.js";
import { TeamService, TeamError } from "../teams/service.js";
import { runAdmin } from "./commands.js";

/** `npm run admin -- ...`: manages teams, keys and credits in the server's own database. */
async function main(): Promise<number> {
  let store: Store | undefined;
  const open = async () => {
    let config;
    try {
      config = loadConfig();
    } catch (err) {
      if (err instanceof ConfigError) throw new TeamError(err.message);
      throw err;
    }
    try {
      store ??= await openStore(config);
    } catch (err) {
      const where = config.databaseUrl ? "DATABASE_URL" : `DATA_DIR (${config.dataDir})`;
      throw new TeamError(`Could not open the database at ${where}: ${(err as Error).message}`);
    }
    return { config, store };
  };
  const connect = async () => {
    const { config, store } = await open();
    return new TeamService({ store, maxSessions: config.teamMaxSessions });
  };
  try {
    const res = await runAdmin(
      process.argv.slice(2),
      connect,
      async () => (await open()).store.nodes,
    );
    process.stdout.write(res.stdout);
    process.stderr.write(res.stderr);
    return res.code;
  } finally {
    await store?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`admin failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);

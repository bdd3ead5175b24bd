import type { Store } from "./repositories.js";
import { openPostgresStore } from "./postgres.js";
import { openSqliteStore } from "./sqlite.js";

/** Postgres when a URL is given (the store several nodes share), else SQLite in dataDir. */
export function openStore(opts: { dataDir: string; databaseUrl?: string }): Promise<Store> {
  return opts.databaseUrl ? openPostgresStore(opts.databaseUrl) : openSqliteStore(opts.dataDir);
}

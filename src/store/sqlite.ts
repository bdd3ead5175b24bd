import fs from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { Database } from "./schema.js";
import type { Store } from "./repositories.js";
import { kyselyStore } from "./kysely/store.js";
import { migrate } from "./migrate.js";

/** Opens (creating if needed) the embedded database file under dataDir and migrates it. */
export async function openSqliteStore(dataDir: string): Promise<Store> {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, "server.db");
  const sqlite = new SQLite(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  // Another process (the admin CLI) may hold the write lock for a moment.
  sqlite.pragma("busy_timeout = 5000");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrate(db);
  return kyselyStore(db, "sqlite");
}

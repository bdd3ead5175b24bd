import fs from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, type Dialect } from "kysely";
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
  const db = new Kysely<Database>({ dialect: keepingErrors(sqlite) });
  await migrate(db);
  return kyselyStore(db, "sqlite");
}

/**
 * Kysely's SQLite dialect, except that a failed transaction is rolled back only if it is still
 * open: SQLite ends it by itself on some errors (a full disk, an I/O error), and the second
 * rollback would fail with "no transaction is active", hiding the error that says why.
 */
function keepingErrors(sqlite: SQLite.Database): Dialect {
  const base = new SqliteDialect({ database: sqlite });
  return {
    createAdapter: () => base.createAdapter(),
    createIntrospector: (db) => base.createIntrospector(db),
    createQueryCompiler: () => base.createQueryCompiler(),
    createDriver: () => {
      const driver = base.createDriver();
      const rollback = driver.rollbackTransaction.bind(driver);
      driver.rollbackTransaction = async (connection) => {
        if (sqlite.inTransaction) await rollback(connection);
      };
      return driver;
    },
  };
}

import fs from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import {
  Kysely,
  Migrator,
  sql,
  SqliteDialect,
  type Migration,
  type MigrationProvider,
} from "kysely";
import { migrations } from "./migrations/index.js";
import type { Database } from "./schema.js";
import type { Store } from "./repositories.js";
import { KyselyScrapeRepository } from "./kysely/scrapes.js";
import { KyselyCacheRepository } from "./kysely/cache.js";
import { KyselySessionRepository } from "./kysely/sessions.js";

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/** Opens (creating if needed) the embedded database file under dataDir and migrates it. */
export async function openSqliteStore(dataDir: string): Promise<Store> {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, "server.db");
  const sqlite = new SQLite(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("busy_timeout = 5000");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrate(db);
  return {
    scrapes: new KyselyScrapeRepository(db),
    cache: new KyselyCacheRepository(db),
    sessions: new KyselySessionRepository(db),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/** Applies pending migrations; a failure stops the start with the migration's name. */
export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error) {
    const name = failed ? ` (${failed.migrationName})` : "";
    throw new Error(`Database migration failed${name}: ${String(error)}`);
  }
}

import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.js";
import type { Store } from "./repositories.js";
import { kyselyStore } from "./kysely/store.js";
import { migrate } from "./migrate.js";

const INT8 = 20;

/**
 * Connects to Postgres at url and migrates it. Our bigint columns hold millisecond timestamps,
 * well inside a double, so they are read as numbers rather than pg's default strings.
 */
export async function openPostgresStore(url: string, poolSize = 10): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 10_000,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8 && format !== "binary"
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not take the process down.
  pool.on("error", () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrate(db);
  } catch (err) {
    await db.destroy().catch(() => {});
    throw new Error(`Postgres at ${where(url)}: ${(err as Error).message}`, { cause: err });
  }
  return kyselyStore(db, "postgres");
}

/** Host and database of a URL, without its credentials, for messages. */
function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return "DATABASE_URL";
  }
}

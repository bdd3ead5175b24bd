import type { Kysely, Migration } from "kysely";

/**
 * Screenshots and PDFs scrapes saved, where every node on one database can serve them. Only a
 * Postgres store writes here (a single SQLite node keeps them under DATA_DIR/files); the table
 * exists on both so that the schema is one. A row is written once and never changed.
 * `bytea` is Postgres's byte string; to SQLite it is a column name that keeps a BLOB as it is.
 */
export const m009_files: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("files")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("content_type", "text", (c) => c.notNull())
      .addColumn("bytes", "bytea", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("files").execute();
  },
};

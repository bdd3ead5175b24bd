import type { Kysely, Migration } from "kysely";

/**
 * Files sessions' browsers downloaded: one row per download, kept or failed. `file` names the
 * bytes in the file store (null for a failed download); `session_key` is what the routes name
 * the session by (a standalone session's id, or the scrape a session is bound to). A row goes,
 * with its bytes, once `expires_at` has passed.
 */
export const m012_downloads: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("downloads")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("session_id", "text", (c) => c.notNull())
      .addColumn("session_key", "text", (c) => c.notNull())
      .addColumn("team_id", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("mime_type", "text", (c) => c.notNull())
      .addColumn("size", "bigint", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("file", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("downloads_session_key")
      .on("downloads")
      .columns(["session_key", "created_at"])
      .execute();
    await db.schema.createIndex("downloads_expires").on("downloads").column("expires_at").execute();
    // A session's end moves its downloads' expiry.
    await db.schema.createIndex("downloads_session").on("downloads").column("session_id").execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("downloads").execute();
  },
};

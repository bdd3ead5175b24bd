import type { Kysely, Migration } from "kysely";

/**
 * Session recordings: one row per recorded session (whose team, when it started and, once its
 * last page is stored, when it ended), and one per page of it: the address it showed, when it
 * was on show (ms from the session's start), its HLS playlist and the stored segment files it
 * names. A page row is written once, when the page's video is complete.
 */
export const m013_recordings: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("recordings")
      .addColumn("session_id", "text", (c) => c.primaryKey())
      .addColumn("team_id", "text", (c) => c.notNull())
      .addColumn("started_at", "bigint", (c) => c.notNull())
      .addColumn("ended_at", "bigint")
      .execute();
    await db.schema
      .createIndex("recordings_started")
      .on("recordings")
      .column("started_at")
      .execute();
    await db.schema
      .createTable("recording_pages")
      .addColumn("session_id", "text", (c) => c.notNull())
      .addColumn("page_id", "integer", (c) => c.notNull())
      .addColumn("page_url", "text", (c) => c.notNull())
      .addColumn("start_ms", "bigint", (c) => c.notNull())
      .addColumn("end_ms", "bigint", (c) => c.notNull())
      .addColumn("playlist", "text", (c) => c.notNull())
      /** JSON array of the segments' public file names, in playing order. */
      .addColumn("segments", "text", (c) => c.notNull())
      .addColumn("bytes", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("recording_pages_pk", ["session_id", "page_id"])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("recording_pages").execute();
    await db.schema.dropIndex("recordings_started").execute();
    await db.schema.dropTable("recordings").execute();
  },
};

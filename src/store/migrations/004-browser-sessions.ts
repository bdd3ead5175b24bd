import type { Kysely, Migration } from "kysely";

/**
 * Standalone browser sessions (/v2/browser) share the sessions table with interact's: `kind`
 * tells them apart (a browser session is bound to itself: its scrape_id is its own id), and
 * each session keeps its own lifetimes, which billing and listings need after it ended.
 */
export const m004_browser_sessions: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable("sessions")
      .addColumn("kind", "text", (c) => c.notNull().defaultTo("interact"))
      .execute();
    await db.schema.alterTable("sessions").addColumn("ttl_ms", "bigint").execute();
    await db.schema.alterTable("sessions").addColumn("idle_ttl_ms", "bigint").execute();
    await db.schema
      .alterTable("sessions")
      .addColumn("stream_web_view", "integer", (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema
      .createIndex("sessions_team_kind")
      .on("sessions")
      .columns(["team_id", "kind", "created_at"])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex("sessions_team_kind").execute();
    for (const column of ["stream_web_view", "idle_ttl_ms", "ttl_ms", "kind"]) {
      await db.schema.alterTable("sessions").dropColumn(column).execute();
    }
  },
};

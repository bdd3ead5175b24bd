import type { Kysely, Migration } from "kysely";

/**
 * What a session did, kept on its row after it ends: the languages that ran code in it (comma-
 * separated, in the order first used), how many calls ran, the address its newest tab last
 * showed, what it was billed once settled (without authentication, what it would have cost), and
 * whether a recording and downloaded files were kept. Its duration is its created_at to its
 * destroyed_at, and why it ended is destroy_reason, as before.
 */
export const m011_session_history: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("sessions").addColumn("languages", "text").execute();
    await db.schema
      .alterTable("sessions")
      .addColumn("calls", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable("sessions").addColumn("last_url", "text").execute();
    await db.schema.alterTable("sessions").addColumn("credits_billed", "integer").execute();
    await db.schema
      .alterTable("sessions")
      .addColumn("recorded", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable("sessions")
      .addColumn("files", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
  },
  async down(db: Kysely<unknown>) {
    for (const column of [
      "files",
      "recorded",
      "credits_billed",
      "last_url",
      "calls",
      "languages",
    ]) {
      await db.schema.alterTable("sessions").dropColumn(column).execute();
    }
  },
};

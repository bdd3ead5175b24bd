import type { Kysely, Migration } from "kysely";

export const m001_init: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("scrapes")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("team_id", "text", (c) => c.notNull())
      .addColumn("url", "text", (c) => c.notNull())
      .addColumn("final_url", "text")
      .addColumn("status_code", "integer")
      .addColumn("zero_data_retention", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("replay_context", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("scrape_cache")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("document", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("sessions")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("scrape_id", "text", (c) => c.notNull().unique())
      .addColumn("team_id", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("destroyed_at", "bigint")
      .addColumn("destroy_reason", "text")
      .execute();
    await db.schema.createIndex("sessions_status").on("sessions").column("status").execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("sessions").execute();
    await db.schema.dropTable("scrape_cache").execute();
    await db.schema.dropTable("scrapes").execute();
  },
};

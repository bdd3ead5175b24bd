import type { Kysely, Migration } from "kysely";

/**
 * Many nodes on one database: each node publishes itself in `nodes` (where the others reach it,
 * its room, whether it drains, its heartbeat, and when another node declared it lost), and a
 * session's row keeps the digests of its live view tokens beside its CDP token's, so any node
 * can find which node holds the session a token opens.
 */
export const m008_cluster: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("nodes")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("url", "text", (c) => c.notNull())
      .addColumn("capacity", "integer", (c) => c.notNull())
      .addColumn("live", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("draining", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("started_at", "bigint", (c) => c.notNull())
      .addColumn("heartbeat_at", "bigint", (c) => c.notNull())
      .addColumn("lost_at", "bigint")
      .execute();
    await db.schema.alterTable("sessions").addColumn("view_token_hash", "text").execute();
    await db.schema.alterTable("sessions").addColumn("control_token_hash", "text").execute();
    await db.schema
      .createIndex("sessions_view_token_hash")
      .on("sessions")
      .column("view_token_hash")
      .execute();
    await db.schema
      .createIndex("sessions_control_token_hash")
      .on("sessions")
      .column("control_token_hash")
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex("sessions_control_token_hash").execute();
    await db.schema.dropIndex("sessions_view_token_hash").execute();
    for (const column of ["control_token_hash", "view_token_hash"]) {
      await db.schema.alterTable("sessions").dropColumn(column).execute();
    }
    await db.schema.dropTable("nodes").execute();
  },
};

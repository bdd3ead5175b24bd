import type { Kysely, Migration } from "kysely";

/**
 * Sessions become a registry several nodes can share: a row is claimed (status "starting")
 * before a browser is paid for, names the node that owns it, keeps only a digest of its CDP
 * token, when it was last seen alive (what a restart bills up to) and whether a prompt ran.
 */
export const m002_session_registry: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable("sessions")
      .addColumn("node_id", "text", (c) => c.notNull().defaultTo(""))
      .execute();
    await db.schema.alterTable("sessions").addColumn("cdp_token_hash", "text").execute();
    await db.schema.alterTable("sessions").addColumn("seen_at", "bigint").execute();
    await db.schema
      .alterTable("sessions")
      .addColumn("used_prompt", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createIndex("sessions_cdp_token_hash")
      .on("sessions")
      .column("cdp_token_hash")
      .execute();
    await db.schema
      .createIndex("sessions_node")
      .on("sessions")
      .columns(["node_id", "status"])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex("sessions_node").execute();
    await db.schema.dropIndex("sessions_cdp_token_hash").execute();
    for (const column of ["used_prompt", "seen_at", "cdp_token_hash", "node_id"]) {
      await db.schema.alterTable("sessions").dropColumn(column).execute();
    }
  },
};

import type { Kysely, Migration } from "kysely";

/**
 * Tenants: teams, their API keys (digests only) and a credits ledger. Balances are never
 * stored, only summed from the ledger, so there is one truth to check a charge against.
 */
export const m003_teams: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("teams")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull().unique())
      .addColumn("max_sessions", "integer")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("api_keys")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("team_id", "text", (c) => c.notNull().references("teams.id"))
      .addColumn("key_hash", "text", (c) => c.notNull().unique())
      .addColumn("prefix", "text", (c) => c.notNull())
      .addColumn("name", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("revoked_at", "bigint")
      .execute();
    await db.schema.createIndex("api_keys_team").on("api_keys").column("team_id").execute();

    await db.schema
      .createTable("ledger")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("team_id", "text", (c) => c.notNull().references("teams.id"))
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("amount", "integer", (c) => c.notNull())
      .addColumn("session_id", "text")
      .addColumn("scrape_id", "text")
      .addColumn("ref", "text", (c) => c.unique())
      .addColumn("note", "text")
      .addColumn("at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("ledger_team").on("ledger").columns(["team_id", "at"]).execute();
    await db.schema.createIndex("ledger_session").on("ledger").column("session_id").execute();
    await db.schema
      .createIndex("sessions_team")
      .on("sessions")
      .columns(["team_id", "status"])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex("sessions_team").execute();
    await db.schema.dropTable("ledger").execute();
    await db.schema.dropTable("api_keys").execute();
    await db.schema.dropTable("teams").execute();
  },
};

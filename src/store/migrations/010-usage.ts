import type { Kysely, Migration } from "kysely";

/**
 * Usage by API key and the team's latest scrape. A charge records the key that spent it
 * (`ledger.api_key_id`: a scrape's key, or for a session's charge the key that opened it, kept
 * on the session's row until it is settled); null for rows from before, or when no key was
 * asked for (authentication off). A scrape's refunds are found by its id, and a team's newest
 * scrape by team and time, without reading every row.
 */
export const m010_usage: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("ledger").addColumn("api_key_id", "text").execute();
    await db.schema.alterTable("sessions").addColumn("api_key_id", "text").execute();
    await db.schema.createIndex("ledger_scrape").on("ledger").column("scrape_id").execute();
    await db.schema
      .createIndex("scrapes_team_created")
      .on("scrapes")
      .columns(["team_id", "created_at"])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex("scrapes_team_created").execute();
    await db.schema.dropIndex("ledger_scrape").execute();
    await db.schema.alterTable("sessions").dropColumn("api_key_id").execute();
    await db.schema.alterTable("ledger").dropColumn("api_key_id").execute();
  },
};

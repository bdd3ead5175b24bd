import type { Kysely, Migration } from "kysely";

/**
 * A scrape's charge until its outcome is known: written with the charge, removed in the same
 * transaction as the scrape's record or its refund. What is left names a charge whose scrape
 * died with a database outage or a killed server: it is refunded once, when the store is back
 * or at the next start (see KyselyCreditRepository.resolveScrapeCharge).
 */
export const m007_scrape_charges: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("scrape_charges")
      .addColumn("scrape_id", "text", (c) => c.primaryKey())
      .addColumn("team_id", "text", (c) => c.notNull())
      .addColumn("node_id", "text", (c) => c.notNull())
      .addColumn("amount", "integer", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("scrape_charges").execute();
  },
};

import type { Kysely, Migration } from "kysely";

/** The named profile a scrape ran with, so its interact session carries it on. */
export const m006_scrape_profiles: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("scrapes").addColumn("profile", "text").execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("scrapes").dropColumn("profile").execute();
  },
};

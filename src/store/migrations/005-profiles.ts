import type { Kysely, Migration } from "kysely";

/**
 * Named browser profiles: a team's saved browser state (cookies, local storage, IndexedDB), and
 * who may write it back right now (one writer at a time, on a lease that ends by itself should
 * the writer die without saying so).
 */
export const m005_profiles: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("profiles")
      .addColumn("team_id", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("state", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint")
      .addColumn("writer_id", "text")
      .addColumn("writer_until", "bigint")
      .addPrimaryKeyConstraint("profiles_pk", ["team_id", "name"])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("profiles").execute();
  },
};

import type { Kysely } from "kysely";
import type { Database, SessionsTable } from "../schema.js";
import type { SessionRecord, SessionRepository } from "../repositories.js";

function toRecord(row: SessionsTable): SessionRecord {
  return {
    id: row.id,
    scrapeId: row.scrape_id,
    teamId: row.team_id,
    status: row.status,
    createdAt: Number(row.created_at),
    destroyedAt: row.destroyed_at === null ? null : Number(row.destroyed_at),
    destroyReason: row.destroy_reason,
  };
}

/** Session lifecycle records: what existed, and why it ended. */
export class KyselySessionRepository implements SessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(s: SessionRecord): Promise<void> {
    await this.db
      .insertInto("sessions")
      .values({
        id: s.id,
        scrape_id: s.scrapeId,
        team_id: s.teamId,
        status: s.status,
        created_at: s.createdAt,
        destroyed_at: s.destroyedAt,
        destroy_reason: s.destroyReason,
      })
      .execute();
  }

  async getByScrape(scrapeId: string): Promise<SessionRecord | undefined> {
    const row = await this.db
      .selectFrom("sessions")
      .selectAll()
      .where("scrape_id", "=", scrapeId)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async markDestroyed(id: string, reason: string, at = Date.now()): Promise<void> {
    await this.db
      .updateTable("sessions")
      .set({ status: "destroyed", destroyed_at: at, destroy_reason: reason })
      .where("id", "=", id)
      .where("status", "=", "active")
      .execute();
  }

  async destroyAllActive(reason: string, at = Date.now()): Promise<number> {
    const res = await this.db
      .updateTable("sessions")
      .set({ status: "destroyed", destroyed_at: at, destroy_reason: reason })
      .where("status", "=", "active")
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }
}

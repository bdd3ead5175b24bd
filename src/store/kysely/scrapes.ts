import type { Kysely } from "kysely";
import type { Database } from "../schema.js";
import type { ScrapeRecord, ScrapeRepository } from "../repositories.js";

/** Scrape records in any Kysely database with our schema. */
export class KyselyScrapeRepository implements ScrapeRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(s: ScrapeRecord): Promise<void> {
    // The record is the scrape's outcome: its charge, if any, is settled in the same step.
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom("scrape_charges").where("scrape_id", "=", s.id).execute();
      await trx
        .insertInto("scrapes")
        .values({
          id: s.id,
          team_id: s.teamId,
          url: s.url,
          final_url: s.finalUrl,
          status_code: s.statusCode,
          zero_data_retention: s.zeroDataRetention ? 1 : 0,
          replay_context: s.replayContext ? JSON.stringify(s.replayContext) : null,
          created_at: s.createdAt,
          profile: s.profile ? JSON.stringify(s.profile) : null,
        })
        .execute();
    });
  }

  async get(id: string): Promise<ScrapeRecord | undefined> {
    const row = await this.db
      .selectFrom("scrapes")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      teamId: row.team_id,
      url: row.url,
      finalUrl: row.final_url,
      statusCode: row.status_code,
      zeroDataRetention: row.zero_data_retention === 1,
      replayContext: row.replay_context ? JSON.parse(row.replay_context) : null,
      createdAt: Number(row.created_at),
      profile: row.profile ? JSON.parse(row.profile) : null,
    };
  }

  async latestOfTeam(teamId: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom("scrapes")
      .select((eb) => eb.fn.max("created_at").as("latest"))
      .where("team_id", "=", teamId)
      .executeTakeFirst();
    return row?.latest == null ? undefined : Number(row.latest);
  }
}

import type { Kysely } from "kysely";
import type { Database, SessionsTable } from "../schema.js";
import type { SessionClaim, SessionRecord, SessionRepository } from "../repositories.js";

function toRecord(row: SessionsTable): SessionRecord {
  return {
    id: row.id,
    scrapeId: row.scrape_id,
    teamId: row.team_id,
    nodeId: row.node_id,
    status: row.status,
    createdAt: Number(row.created_at),
    destroyedAt: row.destroyed_at === null ? null : Number(row.destroyed_at),
    destroyReason: row.destroy_reason,
    seenAt: row.seen_at === null ? null : Number(row.seen_at),
    usedPrompt: Boolean(row.used_prompt),
  };
}

const LIVE = ["starting", "active"] as const;

/** The session registry's rows: who holds which scrape's session, and why it ended. */
export class KyselySessionRepository implements SessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async claim(c: {
    id: string;
    scrapeId: string;
    teamId: string;
    nodeId: string;
    at: number;
  }): Promise<SessionClaim> {
    // One statement decides the race on the unique scrape_id, on SQLite and Postgres alike.
    await this.db
      .insertInto("sessions")
      .values({
        id: c.id,
        scrape_id: c.scrapeId,
        team_id: c.teamId,
        node_id: c.nodeId,
        status: "starting",
        created_at: c.at,
        destroyed_at: null,
        destroy_reason: null,
        cdp_token_hash: null,
        seen_at: c.at,
        used_prompt: 0,
      })
      .onConflict((oc) => oc.column("scrape_id").doNothing())
      .execute();
    const record = await this.getByScrape(c.scrapeId);
    if (!record) throw new Error(`session claim for scrape ${c.scrapeId} vanished`);
    return { claimed: record.id === c.id, record };
  }

  async activate(id: string, cdpTokenHash: string, at: number): Promise<boolean> {
    const res = await this.db
      .updateTable("sessions")
      .set({ status: "active", cdp_token_hash: cdpTokenHash, created_at: at, seen_at: at })
      .where("id", "=", id)
      .where("status", "=", "starting")
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async release(id: string): Promise<void> {
    await this.db
      .deleteFrom("sessions")
      .where("id", "=", id)
      .where("status", "=", "starting")
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

  async findActiveByTokenHash(hash: string): Promise<SessionRecord | undefined> {
    const row = await this.db
      .selectFrom("sessions")
      .selectAll()
      .where("cdp_token_hash", "=", hash)
      .where("status", "=", "active")
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async end(id: string, reason: string, at: number): Promise<boolean> {
    const res = await this.db
      .updateTable("sessions")
      .set({ status: "destroyed", destroyed_at: at, destroy_reason: reason })
      .where("id", "=", id)
      .where("status", "in", LIVE)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async endNode(nodeId: string, reason: string, at: number): Promise<SessionRecord[]> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom("sessions")
        .selectAll()
        .where("node_id", "=", nodeId)
        .where("status", "in", LIVE)
        .execute();
      if (rows.length === 0) return [];
      await trx
        .updateTable("sessions")
        .set({ status: "destroyed", destroyed_at: at, destroy_reason: reason })
        .where("node_id", "=", nodeId)
        .where("status", "in", LIVE)
        .execute();
      return rows.map(toRecord);
    });
  }

  async markSeen(nodeId: string, at: number): Promise<void> {
    await this.db
      .updateTable("sessions")
      .set({ seen_at: at })
      .where("node_id", "=", nodeId)
      .where("status", "=", "active")
      .execute();
  }

  async markUsedPrompt(id: string): Promise<void> {
    await this.db.updateTable("sessions").set({ used_prompt: 1 }).where("id", "=", id).execute();
  }
}

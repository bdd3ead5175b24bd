import { sql, type Kysely } from "kysely";
import type { Database, NodesTable } from "../schema.js";
import type { NodeAnnouncement, NodeRecord, NodeRepository } from "../repositories.js";

function toNodeRecord(row: NodesTable): NodeRecord {
  return {
    id: row.id,
    url: row.url,
    capacity: Number(row.capacity),
    live: Number(row.live),
    draining: Number(row.draining) === 1,
    startedAt: Number(row.started_at),
    heartbeatAt: Number(row.heartbeat_at),
    lostAt: row.lost_at === null ? null : Number(row.lost_at),
  };
}

/** The cluster's members: one row per node, written by the node, judged lost by the others. */
export class KyselyNodeRepository implements NodeRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async publish(
    n: NodeAnnouncement,
    start: boolean,
  ): Promise<{ lost: boolean; draining: boolean }> {
    const row = {
      id: n.id,
      url: n.url,
      capacity: n.capacity,
      live: n.live,
      draining: n.draining ? 1 : 0,
      started_at: n.startedAt,
      heartbeat_at: n.heartbeatAt,
      lost_at: null,
    };
    if (start) {
      await this.db
        .insertInto("nodes")
        .values(row)
        .onConflict((oc) =>
          oc.column("id").doUpdateSet({
            url: row.url,
            capacity: row.capacity,
            live: row.live,
            draining: row.draining,
            started_at: row.started_at,
            heartbeat_at: row.heartbeat_at,
            lost_at: null,
          }),
        )
        .execute();
      return { lost: false, draining: n.draining };
    }
    // A flag the admin command set stays set, and comes back to the node in the same statement.
    const updated = await this.db
      .updateTable("nodes")
      .set({
        url: row.url,
        capacity: row.capacity,
        live: row.live,
        heartbeat_at: row.heartbeat_at,
        draining: sql<number>`case when draining = 1 then 1 else ${row.draining} end`,
      })
      .where("id", "=", n.id)
      .where("lost_at", "is", null)
      .returning("draining")
      .executeTakeFirst();
    if (updated) return { lost: false, draining: Number(updated.draining) === 1 };
    // No row to update: a first publish, or a row another node has declared lost.
    const inserted = await this.db
      .insertInto("nodes")
      .values(row)
      .onConflict((oc) => oc.column("id").doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) {
      return { lost: false, draining: n.draining };
    }
    const now = await this.get(n.id);
    return { lost: now?.lostAt !== null, draining: now?.draining ?? n.draining };
  }

  async list(): Promise<NodeRecord[]> {
    const rows = await this.db.selectFrom("nodes").selectAll().orderBy("id").execute();
    return rows.map(toNodeRecord);
  }

  async get(id: string): Promise<NodeRecord | undefined> {
    const row = await this.db
      .selectFrom("nodes")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toNodeRecord(row) : undefined;
  }

  async markLost(id: string, cutoff: number, at: number): Promise<boolean> {
    // One statement decides: of all the nodes that notice at once, one changes the row.
    const res = await this.db
      .updateTable("nodes")
      .set({ lost_at: at })
      .where("id", "=", id)
      .where("heartbeat_at", "<", cutoff)
      .where("lost_at", "is", null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async setDraining(id: string, draining: boolean): Promise<boolean> {
    const res = await this.db
      .updateTable("nodes")
      .set({ draining: draining ? 1 : 0 })
      .where("id", "=", id)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }
}

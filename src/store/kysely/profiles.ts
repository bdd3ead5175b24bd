import type { Kysely } from "kysely";
import type { Database } from "../schema.js";
import type { ProfileRecord, ProfileRepository } from "../repositories.js";

/** Named browser profiles; the write lease is taken and given back by single statements. */
export class KyselyProfileRepository implements ProfileRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async checkout(p: {
    teamId: string;
    name: string;
    writer?: { id: string; until: number };
    at: number;
  }): Promise<{ ok: true; state: unknown | null } | { ok: false; busyUntil: number }> {
    await this.db
      .insertInto("profiles")
      .values({
        team_id: p.teamId,
        name: p.name,
        state: null,
        created_at: p.at,
        updated_at: null,
        writer_id: null,
        writer_until: null,
      })
      .onConflict((oc) => oc.columns(["team_id", "name"]).doNothing())
      .execute();
    if (p.writer) {
      // One statement decides between two would-be writers, on SQLite and Postgres alike.
      const res = await this.db
        .updateTable("profiles")
        .set({ writer_id: p.writer.id, writer_until: p.writer.until })
        .where("team_id", "=", p.teamId)
        .where("name", "=", p.name)
        .where((eb) =>
          eb.or([
            eb("writer_id", "is", null),
            eb("writer_until", "<=", p.at),
            eb("writer_id", "=", p.writer!.id),
          ]),
        )
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) {
        const row = await this.row(p.teamId, p.name);
        return { ok: false, busyUntil: Number(row?.writer_until ?? p.at) };
      }
    }
    const row = await this.row(p.teamId, p.name);
    return { ok: true, state: row?.state ? JSON.parse(row.state) : null };
  }

  async save(p: {
    teamId: string;
    name: string;
    writerId: string;
    state: unknown;
    at: number;
  }): Promise<boolean> {
    const res = await this.db
      .updateTable("profiles")
      .set({
        state: JSON.stringify(p.state),
        updated_at: p.at,
        writer_id: null,
        writer_until: null,
      })
      .where("team_id", "=", p.teamId)
      .where("name", "=", p.name)
      .where("writer_id", "=", p.writerId)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async release(p: { teamId: string; name: string; writerId: string }): Promise<void> {
    await this.db
      .updateTable("profiles")
      .set({ writer_id: null, writer_until: null })
      .where("team_id", "=", p.teamId)
      .where("name", "=", p.name)
      .where("writer_id", "=", p.writerId)
      .execute();
  }

  async list(teamId: string, at: number): Promise<ProfileRecord[]> {
    const rows = await this.db
      .selectFrom("profiles")
      .selectAll()
      .where("team_id", "=", teamId)
      .orderBy("name")
      .execute();
    return rows.map((r) => ({
      teamId: r.team_id,
      name: r.name,
      createdAt: Number(r.created_at),
      updatedAt: r.updated_at === null ? null : Number(r.updated_at),
      size: r.state ? Buffer.byteLength(r.state) : 0,
      inUse: r.writer_id !== null && Number(r.writer_until) > at,
    }));
  }

  async delete(
    teamId: string,
    name: string,
    at: number,
  ): Promise<"deleted" | "missing" | "in_use"> {
    const res = await this.db
      .deleteFrom("profiles")
      .where("team_id", "=", teamId)
      .where("name", "=", name)
      .where((eb) => eb.or([eb("writer_id", "is", null), eb("writer_until", "<=", at)]))
      .executeTakeFirst();
    if (Number(res.numDeletedRows) === 1) return "deleted";
    return (await this.row(teamId, name)) ? "in_use" : "missing";
  }

  private row(teamId: string, name: string) {
    return this.db
      .selectFrom("profiles")
      .selectAll()
      .where("team_id", "=", teamId)
      .where("name", "=", name)
      .executeTakeFirst();
  }
}

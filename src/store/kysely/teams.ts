import type { Kysely } from "kysely";
import type { ApiKeysTable, Database, TeamsTable } from "../schema.js";
import type {
  ApiKeyRecord,
  ApiKeyRepository,
  TeamRecord,
  TeamRepository,
} from "../repositories.js";

function toTeam(row: TeamsTable): TeamRecord {
  return {
    id: row.id,
    name: row.name,
    maxSessions: row.max_sessions === null ? null : Number(row.max_sessions),
    createdAt: Number(row.created_at),
  };
}

/** Teams: the tenants keys, scrapes, sessions and credits belong to. */
export class KyselyTeamRepository implements TeamRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(t: { id: string; name: string; at: number }): Promise<TeamRecord | undefined> {
    const res = await this.db
      .insertInto("teams")
      .values({ id: t.id, name: t.name, max_sessions: null, created_at: t.at })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 0) !== 1) return undefined;
    return { id: t.id, name: t.name, maxSessions: null, createdAt: t.at };
  }

  async find(idOrName: string): Promise<TeamRecord | undefined> {
    // An id wins over another team's name that happens to be the same text.
    for (const column of ["id", "name"] as const) {
      const row = await this.db
        .selectFrom("teams")
        .selectAll()
        .where(column, "=", idOrName)
        .executeTakeFirst();
      if (row) return toTeam(row);
    }
    return undefined;
  }

  async list(): Promise<TeamRecord[]> {
    const rows = await this.db.selectFrom("teams").selectAll().orderBy("created_at").execute();
    return rows.map(toTeam);
  }

  async setMaxSessions(id: string, max: number | null): Promise<boolean> {
    const res = await this.db
      .updateTable("teams")
      .set({ max_sessions: max })
      .where("id", "=", id)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }
}

function toKey(row: ApiKeysTable): ApiKeyRecord {
  return {
    id: row.id,
    teamId: row.team_id,
    prefix: row.prefix,
    name: row.name,
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

/** API keys, by digest: a leaked table holds no working key. */
export class KyselyApiKeyRepository implements ApiKeyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(k: {
    id: string;
    teamId: string;
    hash: string;
    prefix: string;
    name: string | null;
    at: number;
  }): Promise<void> {
    await this.db
      .insertInto("api_keys")
      .values({
        id: k.id,
        team_id: k.teamId,
        key_hash: k.hash,
        prefix: k.prefix,
        name: k.name,
        created_at: k.at,
        revoked_at: null,
      })
      .execute();
  }

  async findActive(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db
      .selectFrom("api_keys")
      .selectAll()
      .where("key_hash", "=", hash)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return row ? toKey(row) : undefined;
  }

  async list(teamId: string): Promise<ApiKeyRecord[]> {
    const rows = await this.db
      .selectFrom("api_keys")
      .selectAll()
      .where("team_id", "=", teamId)
      .orderBy("created_at")
      .execute();
    return rows.map(toKey);
  }

  async revoke(id: string, at: number): Promise<boolean> {
    const res = await this.db
      .updateTable("api_keys")
      .set({ revoked_at: at })
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }
}

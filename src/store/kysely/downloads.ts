import type { Kysely, Selectable } from "kysely";
import type { Database, DownloadsTable } from "../schema.js";
import type { DownloadRecord, DownloadRepository } from "../repositories.js";

/** Sessions' downloads as rows; the bytes are in the file store. */
export class KyselyDownloadRepository implements DownloadRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async add(d: DownloadRecord): Promise<void> {
    await this.db
      .insertInto("downloads")
      .values({
        id: d.id,
        session_id: d.sessionId,
        session_key: d.sessionKey,
        team_id: d.teamId,
        name: d.name,
        mime_type: d.mimeType,
        size: d.size,
        state: d.state,
        file: d.file,
        created_at: d.createdAt,
        expires_at: d.expiresAt,
      })
      .execute();
  }

  async ofSession(sessionKey: string): Promise<DownloadRecord[]> {
    const rows = await this.db
      .selectFrom("downloads")
      .selectAll()
      .where("session_key", "=", sessionKey)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(record);
  }

  async get(id: string): Promise<DownloadRecord | undefined> {
    const row = await this.db
      .selectFrom("downloads")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? record(row) : undefined;
  }

  async expireWith(sessionId: string, expiresAt: number): Promise<void> {
    await this.db
      .updateTable("downloads")
      .set({ expires_at: expiresAt })
      .where("session_id", "=", sessionId)
      .execute();
  }

  async expired(now: number, limit: number): Promise<DownloadRecord[]> {
    const rows = await this.db
      .selectFrom("downloads")
      .selectAll()
      .where("expires_at", "<=", now)
      .limit(limit)
      .execute();
    return rows.map(record);
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom("downloads").where("id", "=", id).execute();
  }
}

function record(r: Selectable<DownloadsTable>): DownloadRecord {
  return {
    id: r.id,
    sessionId: r.session_id,
    sessionKey: r.session_key,
    teamId: r.team_id,
    name: r.name,
    mimeType: r.mime_type,
    size: Number(r.size),
    state: r.state === "failed" ? "failed" : "completed",
    file: r.file,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
  };
}

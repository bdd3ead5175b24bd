import type { Kysely, Selectable } from "kysely";
import type { Database, RecordingPagesTable, RecordingsTable } from "../schema.js";
import type { RecordedPage, RecordingRecord, RecordingRepository } from "../repositories.js";

/** Recordings and their pages as rows (bigint columns come back as strings from Postgres). */
export class KyselyRecordingRepository implements RecordingRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async begin(r: { sessionId: string; teamId: string; startedAt: number }): Promise<void> {
    await this.db
      .insertInto("recordings")
      .values({ session_id: r.sessionId, team_id: r.teamId, started_at: r.startedAt })
      .execute();
  }

  async addPage(sessionId: string, p: RecordedPage): Promise<void> {
    await this.db
      .insertInto("recording_pages")
      .values({
        session_id: sessionId,
        page_id: p.pageId,
        page_url: p.pageUrl,
        start_ms: p.startMs,
        end_ms: p.endMs,
        playlist: p.playlist,
        segments: JSON.stringify(p.segments),
        bytes: p.bytes,
      })
      .execute();
  }

  async end(sessionId: string, at: number): Promise<void> {
    await this.db
      .updateTable("recordings")
      .set({ ended_at: at })
      .where("session_id", "=", sessionId)
      .execute();
  }

  async get(sessionId: string): Promise<RecordingRecord | undefined> {
    const row = await this.db
      .selectFrom("recordings")
      .selectAll()
      .where("session_id", "=", sessionId)
      .executeTakeFirst();
    return row && recordingOf(row);
  }

  async pages(sessionId: string): Promise<RecordedPage[]> {
    const rows = await this.db
      .selectFrom("recording_pages")
      .selectAll()
      .where("session_id", "=", sessionId)
      .orderBy("page_id")
      .execute();
    return rows.map(pageOf);
  }

  async page(sessionId: string, pageId: number): Promise<RecordedPage | undefined> {
    const row = await this.db
      .selectFrom("recording_pages")
      .selectAll()
      .where("session_id", "=", sessionId)
      .where("page_id", "=", pageId)
      .executeTakeFirst();
    return row && pageOf(row);
  }

  async startedBefore(before: number, limit: number): Promise<RecordingRecord[]> {
    const rows = await this.db
      .selectFrom("recordings")
      .selectAll()
      .where("started_at", "<", before)
      .orderBy("started_at")
      .limit(limit)
      .execute();
    return rows.map(recordingOf);
  }

  async remove(sessionId: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom("recording_pages").where("session_id", "=", sessionId).execute();
      await tx.deleteFrom("recordings").where("session_id", "=", sessionId).execute();
    });
  }
}

function recordingOf(row: Selectable<RecordingsTable>): RecordingRecord {
  return {
    sessionId: row.session_id,
    teamId: row.team_id,
    startedAt: Number(row.started_at),
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
  };
}

function pageOf(row: Selectable<RecordingPagesTable>): RecordedPage {
  return {
    pageId: Number(row.page_id),
    pageUrl: row.page_url,
    startMs: Number(row.start_ms),
    endMs: Number(row.end_ms),
    playlist: row.playlist,
    segments: JSON.parse(row.segments) as string[],
    bytes: Number(row.bytes),
  };
}

import { sql, type Kysely } from "kysely";
import type { Database } from "../schema.js";
import type { FileInfo, FileRepository } from "../repositories.js";

/**
 * Files as rows. `length` and `substr` count bytes of a BLOB in SQLite and of a bytea in
 * Postgres alike, so a piece of a file is read without the rest of it: Postgres fetches only
 * the stored chunks of a large value that the piece covers.
 */
export class KyselyFileRepository implements FileRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async put(f: { name: string; contentType: string; bytes: Buffer; at: number }): Promise<void> {
    await this.db
      .insertInto("files")
      .values({ name: f.name, content_type: f.contentType, bytes: f.bytes, created_at: f.at })
      .execute();
  }

  async info(name: string): Promise<FileInfo | undefined> {
    const row = await this.db
      .selectFrom("files")
      .select(["content_type", sql<number | string>`length(bytes)`.as("size")])
      .where("name", "=", name)
      .executeTakeFirst();
    return row ? { contentType: row.content_type, size: Number(row.size) } : undefined;
  }

  async slice(name: string, offset: number, length: number): Promise<Buffer | undefined> {
    const row = await this.db
      .selectFrom("files")
      .select(sql<Buffer | null>`substr(bytes, ${offset + 1}, ${length})`.as("piece"))
      .where("name", "=", name)
      .executeTakeFirst();
    if (!row) return undefined;
    return row.piece ?? Buffer.alloc(0);
  }

  async remove(names: string[]): Promise<void> {
    if (names.length === 0) return;
    await this.db.deleteFrom("files").where("name", "in", names).execute();
  }
}

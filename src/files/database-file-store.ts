import { Readable } from "node:stream";
import type { FileRepository } from "../store/repositories.js";
import { contentTypeOf, newFileName, type FileExtension, type FileStore } from "./file-store.js";
import type { StoredFile } from "./file-store.js";

/** Bytes read per query while a file is served: what one read of a file holds at most. */
export const FILE_PIECE_BYTES = 1024 * 1024;

/**
 * Files as rows of the database (Postgres): every node on it serves what any node saved.
 * Reads go piece by piece, one query each, so a large screenshot or PDF is streamed rather
 * than held whole: pg hands over a value only whole, in one row.
 */
export class DatabaseFileStore implements FileStore {
  /**
   * `earlier`: where this node kept files before they went to the database (its disk), still
   * read for names the database does not have, so URLs it handed out then keep working.
   */
  constructor(
    private readonly rows: FileRepository,
    private readonly earlier?: FileStore,
    private readonly pieceBytes = FILE_PIECE_BYTES,
  ) {}

  async save(bytes: Buffer, ext: FileExtension): Promise<string> {
    const name = newFileName(ext);
    await this.rows.put({ name, contentType: contentTypeOf(name)!, bytes, at: Date.now() });
    return name;
  }

  async read(name: string): Promise<StoredFile | undefined> {
    if (!contentTypeOf(name)) return undefined;
    const info = await this.rows.info(name);
    if (!info) return this.earlier?.read(name);
    return { ...info, body: Readable.from(this.pieces(name, info.size), { objectMode: false }) };
  }

  async remove(names: string[]): Promise<void> {
    await this.rows.remove(names);
    await this.earlier?.remove(names);
  }

  /** The file's bytes in order; a file gone midway ends the stream with an error. */
  private async *pieces(name: string, size: number): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < size; offset += this.pieceBytes) {
      const piece = await this.rows.slice(name, offset, Math.min(this.pieceBytes, size - offset));
      if (!piece || piece.length === 0) throw new Error(`file ${name} is gone`);
      yield piece;
    }
  }
}

import fs from "node:fs/promises";
import path from "node:path";
import { contentTypeOf, newFileName, type FileExtension, type FileStore } from "./file-store.js";
import type { StoredFile } from "./file-store.js";

/** Files under DATA_DIR/files: the store of a single node (SQLite). */
export class DiskFileStore implements FileStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, "files");
  }

  async save(bytes: Buffer, ext: FileExtension): Promise<string> {
    await fs.mkdir(this.dir, { recursive: true });
    const name = newFileName(ext);
    await fs.writeFile(path.join(this.dir, name), bytes);
    return name;
  }

  async read(name: string): Promise<StoredFile | undefined> {
    const contentType = contentTypeOf(name);
    if (!contentType) return undefined;
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(path.join(this.dir, name), "r");
    } catch {
      return undefined;
    }
    try {
      // The open handle is what is read, so the length is that of the bytes served.
      const { size } = await handle.stat();
      return { contentType, size, body: handle.createReadStream() };
    } catch {
      await handle.close();
      return undefined;
    }
  }

  async remove(names: string[]): Promise<void> {
    for (const name of names) {
      // Only names this store could have given out: never a path of the caller's choosing.
      if (!contentTypeOf(name)) continue;
      await fs.rm(path.join(this.dir, name), { force: true });
    }
  }
}

import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";

const NAME = /^[A-Za-z0-9_-]{22,64}\.(png|jpeg|pdf)$/;
const TYPES = { png: "image/png", jpeg: "image/jpeg", pdf: "application/pdf" } as const;

/**
 * Binary results (screenshots, PDFs of pages) kept under DATA_DIR/files and served by URL. Names
 * carry 128 random bits, so a URL is only known to whoever got it in a response.
 */
export class FileStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, "files");
  }

  /** Saves bytes and returns the file's public name. */
  async save(bytes: Buffer, ext: keyof typeof TYPES): Promise<string> {
    await fs.mkdir(this.dir, { recursive: true });
    const name = `${randomBytes(16).toString("base64url")}.${ext}`;
    await fs.writeFile(path.join(this.dir, name), bytes);
    return name;
  }

  /** Reads a saved file, or undefined for a name we never gave out. */
  async read(name: string): Promise<{ bytes: Buffer; contentType: string } | undefined> {
    if (!NAME.test(name)) return undefined;
    const ext = name.split(".").pop() as keyof typeof TYPES;
    try {
      return { bytes: await fs.readFile(path.join(this.dir, name)), contentType: TYPES[ext] };
    } catch {
      return undefined;
    }
  }
}

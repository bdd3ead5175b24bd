import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";

const NAME = /^[A-Za-z0-9_-]{22,64}\.(png|jpeg|pdf|bin|ts)$/;
const TYPES = {
  png: "image/png",
  jpeg: "image/jpeg",
  pdf: "application/pdf",
  // A session's download: its own type is kept beside it, with its name (see downloads/).
  bin: "application/octet-stream",
  // A segment of a session recording's video (MPEG-TS).
  ts: "video/mp2t",
} as const;

/** The kinds of file the server saves (screenshots, PDFs, downloads, recordings), by extension. */
export type FileExtension = keyof typeof TYPES;

/** A stored file as it is served: its type, its length and its bytes as they are read. */
export interface StoredFile {
  contentType: string;
  size: number;
  /** Reads the bytes in pieces, so serving a file never holds all of it in memory. */
  body: Readable;
}

/**
 * Binary results (screenshots, PDFs of pages, sessions' downloads, recordings' video segments)
 * served by URL. Names carry 128 random bits, so a URL is only known to whoever got it in a
 * response. Files are written once; downloads and recordings' segments are removed when their
 * retention ends (see docs/cluster.md, "Files").
 */
export interface FileStore {
  /** Saves bytes and returns the file's public name. */
  save(bytes: Buffer, ext: FileExtension): Promise<string>;
  /** A saved file, or undefined for a name we never gave out. */
  read(name: string): Promise<StoredFile | undefined>;
  /** Deletes saved files; names it does not have are ignored. */
  remove(names: string[]): Promise<void>;
}

/** A fresh public name: 128 random bits, then the extension. */
export function newFileName(ext: FileExtension): string {
  return `${randomBytes(16).toString("base64url")}.${ext}`;
}

/** The content type of a name this server could have given out, else undefined. */
export function contentTypeOf(name: string): string | undefined {
  if (!NAME.test(name)) return undefined;
  return TYPES[name.slice(name.lastIndexOf(".") + 1) as FileExtension];
}

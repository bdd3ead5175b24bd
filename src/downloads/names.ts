import { withoutControlCharacters } from "../text/printable.js";

/** Longest name kept, in characters: what file systems take, with room to spare. */
const MAX_NAME = 200;

/**
 * A page's name for a download as kept and shown: control characters (and the bidirectional
 * overrides that disguise an extension) removed, path separators made plain characters. It is
 * only ever metadata: the bytes are stored under a generated name.
 */
export function cleanDownloadName(name: string): string {
  const clean = withoutControlCharacters(name).replace(/[/\\]/g, "_").trim();
  if (clean === "" || clean === "." || clean === "..") return "download";
  return [...clean].slice(0, MAX_NAME).join("");
}

/**
 * `Content-Disposition: attachment` for a file named `name` (RFC 6266): an ASCII fallback in
 * `filename`, the exact name in `filename*` (RFC 8187, UTF-8, percent-encoded).
 */
export function attachmentHeader(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\%]/g, "_");
  const encoded = encodeURIComponent(name).replace(
    /['()*!]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

const TYPES: Record<string, string> = {
  bin: "application/octet-stream",
  csv: "text/csv",
  doc: "application/msword",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  gif: "image/gif",
  gz: "application/gzip",
  htm: "text/html",
  html: "text/html",
  ics: "text/calendar",
  jpeg: "image/jpeg",
  jpg: "image/jpeg",
  json: "application/json",
  md: "text/markdown",
  mp3: "audio/mpeg",
  mp4: "video/mp4",
  pdf: "application/pdf",
  png: "image/png",
  ppt: "application/vnd.ms-powerpoint",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  svg: "image/svg+xml",
  tar: "application/x-tar",
  tsv: "text/tab-separated-values",
  txt: "text/plain",
  wav: "audio/wav",
  webm: "video/webm",
  webp: "image/webp",
  xls: "application/vnd.ms-excel",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  xml: "application/xml",
  zip: "application/zip",
};

/**
 * The media type of a download, from its name's extension (CDP does not say what the server
 * sent); application/octet-stream when the extension is unknown.
 */
export function mimeTypeOf(name: string): string {
  const dot = name.lastIndexOf(".");
  const ext = dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
  return TYPES[ext] ?? "application/octet-stream";
}

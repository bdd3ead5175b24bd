import { randomBytes } from "node:crypto";
import { hashToken, newToken } from "../auth/tokens.js";

/** Firecrawl's key shape: "fc-" and a secret. Ours carry 256 random bits. */
export const KEY_PREFIX = "fc-";

/** A new API key, its digest (what is stored) and a short prefix to recognize it by. */
export function newApiKey(): { key: string; hash: string; prefix: string } {
  const key = KEY_PREFIX + newToken();
  return { key, hash: hashToken(key), prefix: key.slice(0, KEY_PREFIX.length + 6) };
}

/** A public handle for a key (listing, revoking): short and not secret. */
export function newKeyId(): string {
  return `key_${randomBytes(6).toString("hex")}`;
}

/**
 * The key in an Authorization header: "Bearer <key>", the scheme in any case. Undefined when
 * the header is missing or not of that form.
 */
export function bearerKey(header: string | undefined): string | undefined {
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m?.[1];
}

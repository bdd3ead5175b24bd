import { createHash, randomBytes } from "node:crypto";

/** 32 random bytes in base64url: always 43 characters of [A-Za-z0-9_-]. */
export const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** A new secret token for a URL or a key: 256 random bits, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * The form a token is stored and looked up in. Only digests are kept, so a leaked table or log
 * gives no working token, and a lookup's time says nothing about how much of a guess matched.
 */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

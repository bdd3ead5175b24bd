/** Keys remembered at most; the least recently used goes first. */
const MAX_KEYS = 10_000;

interface Entry {
  keyId: string;
  teamId: string;
  /** When the database last said this key is active. */
  confirmedAt: number;
}

/**
 * API keys the database confirmed lately, by digest: a key confirmed within `ttlMs` is not
 * looked up again, so revoking it elsewhere (the admin command, another node) takes at most
 * that long to reach this server. Only active keys are kept; an unknown or revoked key is
 * looked up every time. With `ttlMs` 0 nothing is kept.
 */
export class KeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxKeys = MAX_KEYS,
  ) {}

  /** A key confirmed within the TTL (its id and team), or undefined: then ask the database. */
  fresh(hash: string, now = Date.now()): { keyId: string; teamId: string } | undefined {
    const e = this.entries.get(hash);
    if (!e || now - e.confirmedAt >= this.ttlMs) return undefined;
    this.touch(hash, e);
    return { keyId: e.keyId, teamId: e.teamId };
  }

  /** A key confirmed at some time, however long ago (for an outage). */
  known(hash: string): { keyId: string; teamId: string } | undefined {
    const e = this.entries.get(hash);
    return e && { keyId: e.keyId, teamId: e.teamId };
  }

  /** The database says this key is active, for this team. */
  confirm(hash: string, keyId: string, teamId: string, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    this.touch(hash, { keyId, teamId, confirmedAt: now });
    if (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
  }

  /** The database says this key is unknown or revoked. */
  forget(hash: string): void {
    this.entries.delete(hash);
  }

  /** A key revoked through this server: it stops working at once. */
  forgetKey(keyId: string): void {
    for (const [hash, e] of this.entries) if (e.keyId === keyId) this.entries.delete(hash);
  }

  private touch(hash: string, e: Entry): void {
    this.entries.delete(hash);
    this.entries.set(hash, e);
  }
}

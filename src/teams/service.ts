import { randomBytes } from "node:crypto";
import { hashToken } from "../auth/tokens.js";
import { isDatabaseUnavailable } from "../errors/database-unavailable.js";
import type {
  ApiKeyRecord,
  Balance,
  ProfileRecord,
  LedgerEntry,
  SessionRecord,
  Store,
  TeamRecord,
} from "../store/repositories.js";
import { KeyCache } from "./key-cache.js";
import { newApiKey, newKeyId } from "./keys.js";

/** An operator's mistake (unknown team, bad amount): its message is meant to be shown. */
export class TeamError extends Error {}

const TEAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Largest grant at once: keeps every sum far inside exact integers. */
const MAX_GRANT = 1_000_000_000;
/**
 * After the database failed a key lookup, keys that keep working through an outage are taken
 * from memory for this long without asking it again: a database whose host drops packets
 * would otherwise hold every call for the pool's connection timeout.
 */
const OUTAGE_MEMO_MS = 2_000;

export interface TeamServiceOptions {
  store: Pick<Store, "teams" | "keys" | "credits" | "sessions" | "profiles">;
  /** The server's default limit of live sessions per team (TEAM_MAX_SESSIONS). */
  maxSessions: number;
  /**
   * How keys are remembered between lookups (see KeyCache and README's API_KEY_CACHE_SECONDS):
   * a key the database confirmed this recently is not looked up again (default 0: always).
   */
  cacheTtlMs?: number;
  /**
   * Whether the team has a session live on this server. While the database cannot be read, a
   * key this server confirmed before keeps working, past the TTL, only for such a team: its
   * live sessions' calls need no database, and anything else answers 503 regardless.
   */
  hasLiveSession?: (teamId: string) => boolean;
}

/** Who a request is: its API key and the team the key belongs to. */
export interface Caller {
  teamId: string;
  keyId: string;
}

export interface TeamReport {
  team: TeamRecord;
  /** The limit in force: its own, or the server's default. */
  maxSessions: number;
  balance: Balance;
  keys: ApiKeyRecord[];
  liveSessions: SessionRecord[];
  ledger: LedgerEntry[];
}

/** Teams and their keys: who a request is, and what an operator can change about a team. */
export class TeamService {
  private readonly keyCache: KeyCache;
  /** Until when the database is taken to be down for key lookups (see OUTAGE_MEMO_MS). */
  private outageUntil = 0;

  private readonly store: TeamServiceOptions["store"];

  constructor(private readonly opts: TeamServiceOptions) {
    this.store = opts.store;
    this.keyCache = new KeyCache(opts.cacheTtlMs ?? 0);
  }

  /**
   * The key's id and the team it belongs to, or undefined for an unknown or revoked key. Throws
   * the database's error when it cannot be read, unless the key keeps working through an outage.
   */
  async authenticate(key: string): Promise<Caller | undefined> {
    const hash = hashToken(key);
    const fresh = this.keyCache.fresh(hash);
    if (fresh) return fresh;
    const known = this.keyCache.known(hash);
    const outlasts = known !== undefined && (this.opts.hasLiveSession?.(known.teamId) ?? false);
    if (outlasts && Date.now() < this.outageUntil) return known;
    let found;
    try {
      found = await this.store.keys.findActive(hash);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      this.outageUntil = Date.now() + OUTAGE_MEMO_MS;
      if (outlasts) return known;
      throw err;
    }
    if (!found) {
      this.keyCache.forget(hash);
      return undefined;
    }
    this.keyCache.confirm(hash, found.id, found.teamId);
    return { keyId: found.id, teamId: found.teamId };
  }

  async createTeam(name: string): Promise<TeamRecord> {
    if (!TEAM_NAME.test(name)) {
      throw new TeamError(
        `Invalid team name "${name}": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
      );
    }
    if (/^team_[0-9a-f]{12}$/.test(name)) {
      throw new TeamError(`Invalid team name "${name}": it looks like a team id.`);
    }
    const team = await this.store.teams.create({
      id: `team_${randomBytes(6).toString("hex")}`,
      name,
      at: Date.now(),
    });
    if (!team) throw new TeamError(`A team named "${name}" already exists.`);
    return team;
  }

  listTeams(): Promise<TeamRecord[]> {
    return this.store.teams.list();
  }

  /** A team by id or name; TeamError when there is none. */
  async team(ref: string): Promise<TeamRecord> {
    const team = await this.store.teams.find(ref);
    if (!team) throw new TeamError(`No team "${ref}". List them with: team list`);
    return team;
  }

  /** A new key for the team. The key itself is returned here once and never again. */
  async createKey(
    teamRef: string,
    name: string | null = null,
  ): Promise<{ key: string; record: ApiKeyRecord }> {
    const team = await this.team(teamRef);
    const { key, hash, prefix } = newApiKey();
    const id = newKeyId();
    const at = Date.now();
    await this.store.keys.create({ id, teamId: team.id, hash, prefix, name, at });
    return { key, record: { id, teamId: team.id, prefix, name, createdAt: at, revokedAt: null } };
  }

  async listKeys(teamRef: string): Promise<ApiKeyRecord[]> {
    return this.store.keys.list((await this.team(teamRef)).id);
  }

  /** Revokes a key; this server stops accepting it at once, others within their key cache's TTL. */
  async revokeKey(keyId: string): Promise<void> {
    const revoked = await this.store.keys.revoke(keyId, Date.now());
    this.keyCache.forgetKey(keyId);
    if (!revoked) {
      throw new TeamError(`No active key "${keyId}". List a team's keys with: key list <team>`);
    }
  }

  async grant(teamRef: string, amount: number, note: string | null): Promise<Balance> {
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_GRANT) {
      throw new TeamError(`Credits to grant must be a whole number from 1 to ${MAX_GRANT}.`);
    }
    const team = await this.team(teamRef);
    return this.store.credits.grant(team.id, amount, note, Date.now());
  }

  /** null puts the team back on the server's default. */
  async setMaxSessions(teamRef: string, max: number | null): Promise<TeamRecord> {
    if (max !== null && (!Number.isSafeInteger(max) || max < 0 || max > 100_000)) {
      throw new TeamError("A session limit must be a whole number from 0 to 100000, or default.");
    }
    const team = await this.team(teamRef);
    await this.store.teams.setMaxSessions(team.id, max);
    return { ...team, maxSessions: max };
  }

  /** The team's named browser profiles (never their contents). */
  async listProfiles(teamRef: string): Promise<ProfileRecord[]> {
    return this.store.profiles.list((await this.team(teamRef)).id, Date.now());
  }

  async deleteProfile(teamRef: string, name: string): Promise<void> {
    const team = await this.team(teamRef);
    const res = await this.store.profiles.delete(team.id, name, Date.now());
    if (res === "missing") throw new TeamError(`Team ${team.name} has no profile "${name}".`);
    if (res === "in_use") {
      throw new TeamError(`Profile "${name}" is being written by a live session; stop it first.`);
    }
  }

  async report(teamRef: string, ledgerEntries = 20): Promise<TeamReport> {
    const team = await this.team(teamRef);
    const [balance, keys, liveSessions, ledger] = await Promise.all([
      this.store.credits.balance(team.id),
      this.store.keys.list(team.id),
      this.store.sessions.liveOfTeam(team.id),
      this.store.credits.entries(team.id, ledgerEntries),
    ]);
    return {
      team,
      maxSessions: team.maxSessions ?? this.opts.maxSessions,
      balance,
      keys,
      liveSessions,
      ledger,
    };
  }
}

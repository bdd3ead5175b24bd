import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from "kysely";
import type { Database, SessionsTable } from "../schema.js";
import type {
  ClaimTerms,
  SessionClaim,
  SessionClaimRequest,
  SessionQuery,
  SessionRecord,
  SessionRepository,
  SessionActivity,
  TokenUse,
} from "../repositories.js";
import {
  appendEntry,
  availableCredits,
  heldBySession,
  lockTeam,
  sessionRef,
} from "./ledger-ops.js";

export function toSessionRecord(row: SessionsTable): SessionRecord {
  return {
    id: row.id,
    scrapeId: row.scrape_id,
    teamId: row.team_id,
    nodeId: row.node_id,
    status: row.status,
    createdAt: Number(row.created_at),
    destroyedAt: row.destroyed_at === null ? null : Number(row.destroyed_at),
    destroyReason: row.destroy_reason,
    seenAt: row.seen_at === null ? null : Number(row.seen_at),
    usedPrompt: Boolean(row.used_prompt),
    kind: row.kind ?? "interact",
    ttlMs: row.ttl_ms === null ? null : Number(row.ttl_ms),
    idleTtlMs: row.idle_ttl_ms === null ? null : Number(row.idle_ttl_ms),
    streamWebView: row.stream_web_view !== 0,
    languages: row.languages ? row.languages.split(",") : [],
    calls: Number(row.calls ?? 0),
    lastUrl: row.last_url ?? null,
    creditsBilled: row.credits_billed === null ? null : Number(row.credits_billed),
    recorded: Boolean(row.recorded),
    files: Number(row.files ?? 0),
  };
}

/** The languages column: comma-separated names, or null for none. */
const languagesColumn = (languages: readonly string[]) =>
  languages.length > 0 ? languages.join(",") : null;

const LIVE = ["starting", "active"] as const;
/** Session ids per heartbeat statement. */
const SEEN_SLICE = 500;

/** The session registry's rows: who holds which scrape's session, and why it ended. */
export class KyselySessionRepository implements SessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async claim(c: SessionClaimRequest, terms?: ClaimTerms): Promise<SessionClaim> {
    if (!terms) return this.insertClaim(this.db, c);
    // The limit and the credits are checked and the row and its reservation written under the
    // team's lock: concurrent claims of one team, on any node, are decided one after another.
    return this.db.transaction().execute(async (trx) => {
      if (!(await lockTeam(trx, c.teamId))) throw new Error(`unknown team ${c.teamId}`);
      const existing = await this.getByScrape(c.scrapeId, trx);
      if (existing) return { outcome: "taken", record: existing };
      const live = await this.liveOfTeam(c.teamId, trx);
      if (live.length >= terms.maxSessions) {
        return {
          outcome: "limit",
          limit: terms.maxSessions,
          liveStartedAt: live.map((r) => r.createdAt),
        };
      }
      const available = await availableCredits(trx, c.teamId);
      if (available < terms.reserve) {
        return { outcome: "credits", needed: terms.reserve, available };
      }
      const claim = await this.insertClaim(trx, c);
      if (claim.outcome === "claimed" && terms.reserve > 0) {
        await appendEntry(trx, {
          team_id: c.teamId,
          kind: "reservation",
          amount: -terms.reserve,
          session_id: c.id,
          scrape_id: c.scrapeId,
          ref: sessionRef.reservation(c.id),
          note: "held for the session's full TTL",
          at: c.at,
        });
      }
      return claim;
    });
  }

  private async insertClaim(db: Kysely<Database>, c: SessionClaimRequest): Promise<SessionClaim> {
    // One statement decides the race on the unique scrape_id, on SQLite and Postgres alike.
    await db
      .insertInto("sessions")
      .values({
        id: c.id,
        scrape_id: c.scrapeId,
        team_id: c.teamId,
        node_id: c.nodeId,
        status: "starting",
        created_at: c.at,
        destroyed_at: null,
        destroy_reason: null,
        cdp_token_hash: null,
        view_token_hash: null,
        control_token_hash: null,
        seen_at: c.at,
        used_prompt: 0,
        kind: c.kind ?? "interact",
        ttl_ms: c.ttlMs ?? null,
        idle_ttl_ms: c.idleTtlMs ?? null,
        stream_web_view: c.streamWebView === false ? 0 : 1,
        api_key_id: c.apiKeyId ?? null,
        languages: null,
        calls: 0,
        last_url: null,
        credits_billed: null,
        recorded: 0,
        files: 0,
      })
      .onConflict((oc) => oc.column("scrape_id").doNothing())
      .execute();
    const record = await this.getByScrape(c.scrapeId, db);
    if (!record) throw new Error(`session claim for scrape ${c.scrapeId} vanished`);
    return { outcome: record.id === c.id ? "claimed" : "taken", record };
  }

  async activate(
    id: string,
    cdpTokenHash: string,
    at: number,
    viewTokenHashes?: { view: string; control: string },
  ): Promise<boolean> {
    const res = await this.db
      .updateTable("sessions")
      .set({
        status: "active",
        cdp_token_hash: cdpTokenHash,
        view_token_hash: viewTokenHashes?.view ?? null,
        control_token_hash: viewTokenHashes?.control ?? null,
        created_at: at,
        seen_at: at,
      })
      .where("id", "=", id)
      .where("status", "=", "starting")
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async release(id: string, at: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom("sessions")
        .select(["team_id", "scrape_id"])
        .where("id", "=", id)
        .where("status", "in", LIVE)
        .executeTakeFirst();
      if (!row) return;
      await lockTeam(trx, row.team_id);
      const held = await heldBySession(trx, id);
      if (held > 0) {
        await appendEntry(trx, {
          team_id: row.team_id,
          kind: "refund",
          amount: held,
          session_id: id,
          scrape_id: row.scrape_id,
          ref: sessionRef.refund(id),
          note: "the session could not start",
          at,
        });
      }
      await trx.deleteFrom("sessions").where("id", "=", id).execute();
    });
  }

  async getByScrape(scrapeId: string, db = this.db): Promise<SessionRecord | undefined> {
    const row = await db
      .selectFrom("sessions")
      .selectAll()
      .where("scrape_id", "=", scrapeId)
      .executeTakeFirst();
    return row ? toSessionRecord(row) : undefined;
  }

  async findActiveByTokenHash(hash: string): Promise<SessionRecord | undefined> {
    const row = await this.db
      .selectFrom("sessions")
      .selectAll()
      .where("cdp_token_hash", "=", hash)
      .where("status", "=", "active")
      .executeTakeFirst();
    return row ? toSessionRecord(row) : undefined;
  }

  async ownerOfToken(hash: string): Promise<{ record: SessionRecord; use: TokenUse } | undefined> {
    const row = await this.db
      .selectFrom("sessions")
      .selectAll()
      .where("status", "=", "active")
      .where((eb) =>
        eb.or([
          eb("cdp_token_hash", "=", hash),
          eb("view_token_hash", "=", hash),
          eb("control_token_hash", "=", hash),
        ]),
      )
      .executeTakeFirst();
    if (!row) return undefined;
    const use: TokenUse =
      row.cdp_token_hash === hash ? "cdp" : row.view_token_hash === hash ? "view" : "control";
    return { record: toSessionRecord(row), use };
  }

  async end(id: string, reason: string, at: number, activity?: SessionActivity): Promise<boolean> {
    const res = await this.db
      .updateTable("sessions")
      .set({
        status: "destroyed",
        destroyed_at: at,
        destroy_reason: reason,
        // Its final activity includes everything written before it.
        ...(activity && {
          languages: languagesColumn(activity.languages),
          calls: activity.calls,
          ...(activity.lastUrl !== undefined && { last_url: activity.lastUrl }),
        }),
      })
      .where("id", "=", id)
      .where("status", "in", LIVE)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async recordActivity(id: string, a: SessionActivity, at: number): Promise<void> {
    const languages = languagesColumn(a.languages);
    await this.db
      .updateTable("sessions")
      .set((eb) => ({
        // It was alive then: what a restart that finds it dead bills up to.
        seen_at: eb
          .case()
          .when(eb.fn.coalesce("seen_at", eb.val(0)), "<", at)
          .then(at)
          .else(eb.ref("seen_at"))
          .end(),
        // Both only grow: a write that arrives after a later one leaves the later one's.
        calls: eb.case().when("calls", "<", a.calls).then(a.calls).else(eb.ref("calls")).end(),
        languages: eb
          .case()
          .when(
            eb.fn("length", [eb.fn.coalesce("languages", eb.val(""))]),
            "<",
            languages?.length ?? 0,
          )
          .then(languages)
          .else(eb.ref("languages"))
          .end(),
        ...(a.lastUrl !== undefined && { last_url: a.lastUrl }),
      }))
      .where("id", "=", id)
      .where("status", "in", LIVE)
      .execute();
  }

  async markBilled(id: string, credits: number): Promise<void> {
    await this.db
      .updateTable("sessions")
      .set({ credits_billed: credits })
      .where("id", "=", id)
      .execute();
  }

  async markRecorded(id: string): Promise<void> {
    await this.db.updateTable("sessions").set({ recorded: 1 }).where("id", "=", id).execute();
  }

  async countFile(id: string, count = 1): Promise<void> {
    await this.db
      .updateTable("sessions")
      .set((eb) => ({ files: eb("files", "+", count) }))
      .where("id", "=", id)
      .execute();
  }

  endNode(nodeId: string, reason: string): Promise<SessionRecord[]> {
    return this.endUnseen(reason, (eb) => eb("node_id", "=", nodeId));
  }

  endOfLostNodes(lostBefore: number, reason: string): Promise<SessionRecord[]> {
    return this.endUnseen(reason, (eb) =>
      eb(
        "node_id",
        "in",
        eb
          .selectFrom("nodes")
          .select("nodes.id")
          .where("nodes.lost_at", "is not", null)
          .where("nodes.lost_at", "<=", lostBefore),
      ),
    );
  }

  /**
   * Ends the live sessions `which` picks, in one statement that returns what it changed: nodes
   * ending the same sessions at once each get only the rows they ended. Their browsers died
   * unseen: the end on record is the last time they were seen alive.
   */
  private async endUnseen(
    reason: string,
    which: (eb: ExpressionBuilder<Database, "sessions">) => Expression<SqlBool>,
  ): Promise<SessionRecord[]> {
    const rows = await this.db
      .updateTable("sessions")
      .set({
        status: "destroyed",
        destroyed_at: sql`coalesce(seen_at, created_at)`,
        destroy_reason: reason,
      })
      .where(which)
      .where("status", "in", LIVE)
      .returningAll()
      .execute();
    return rows.map(toSessionRecord);
  }

  async markSeen(nodeId: string, at: number, only?: readonly string[]): Promise<void> {
    const seen = (ids?: readonly string[]) => {
      let q = this.db
        .updateTable("sessions")
        .set({ seen_at: at })
        .where("node_id", "=", nodeId)
        .where("status", "=", "active");
      if (ids) q = q.where("id", "in", ids);
      return q.execute();
    };
    if (!only) return void (await seen());
    // In slices: both databases bound how many parameters one statement takes.
    for (let i = 0; i < only.length; i += SEEN_SLICE) await seen(only.slice(i, i + SEEN_SLICE));
  }

  async markUsedPrompt(id: string): Promise<void> {
    await this.db.updateTable("sessions").set({ used_prompt: 1 }).where("id", "=", id).execute();
  }

  async liveOfTeam(teamId: string, db = this.db): Promise<SessionRecord[]> {
    const rows = await db
      .selectFrom("sessions")
      .selectAll()
      .where("team_id", "=", teamId)
      .where("status", "in", LIVE)
      .orderBy("created_at")
      .execute();
    return rows.map(toSessionRecord);
  }

  async listOfTeam(teamId: string, query: SessionQuery): Promise<SessionRecord[]> {
    const { kind, status, limit, endedSince } = query;
    let q = this.db.selectFrom("sessions").selectAll().where("team_id", "=", teamId);
    if (kind) q = q.where("kind", "=", kind);
    if (status === "live") q = q.where("status", "in", LIVE);
    if (status === "destroyed") q = q.where("status", "=", "destroyed");
    if (endedSince !== undefined) {
      q = q.where((eb) =>
        eb.or([eb("destroyed_at", "is", null), eb("destroyed_at", ">=", endedSince)]),
      );
    }
    const rows = await q.orderBy("created_at", "desc").limit(limit).execute();
    return rows.map(toSessionRecord);
  }
}

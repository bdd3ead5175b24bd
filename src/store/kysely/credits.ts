import { sql, type Kysely } from "kysely";
import type { Database, LedgerTable } from "../schema.js";
import type {
  Balance,
  CreditRepository,
  LedgerEntry,
  SessionRecord,
  UsageRow,
} from "../repositories.js";
import {
  appendEntry,
  availableCredits,
  heldBySession,
  lockTeam,
  sessionRef,
} from "./ledger-ops.js";
import { openScrapeCharge, openScrapeCharges, resolveScrapeCharge } from "./scrape-charges.js";
import { toSessionRecord } from "./sessions.js";
import { usageByBin } from "./usage.js";

/**
 * The refund of the session in column `session`, if it was refunded (settled or released):
 * from then on its reservations hold nothing.
 */
function refundOf(db: Kysely<Database>, session: "s.id" | "l.session_id") {
  return db
    .selectFrom("ledger as refund")
    .select("refund.id")
    .where("refund.kind", "=", "refund")
    .whereRef("refund.session_id", "=", sql.ref<string>(session));
}

function toEntry(row: LedgerTable): LedgerEntry {
  return {
    id: row.id,
    teamId: row.team_id,
    kind: row.kind,
    amount: Number(row.amount),
    sessionId: row.session_id,
    scrapeId: row.scrape_id,
    note: row.note,
    at: Number(row.at),
    apiKeyId: row.api_key_id,
  };
}

/** The credits ledger; balances are sums of it, taken under the team's lock. */
export class KyselyCreditRepository implements CreditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async grant(teamId: string, amount: number, note: string | null, at: number): Promise<Balance> {
    if (!Number.isSafeInteger(amount) || amount <= 0) {
      throw new Error(`a grant must be a positive whole number, not ${amount}`);
    }
    return this.db.transaction().execute(async (trx) => {
      if (!(await lockTeam(trx, teamId))) throw new Error(`unknown team ${teamId}`);
      await appendEntry(trx, { team_id: teamId, kind: "grant", amount, note, at });
      return this.balanceIn(trx, teamId);
    });
  }

  balance(teamId: string): Promise<Balance> {
    return this.balanceIn(this.db, teamId);
  }

  async granted(teamId: string): Promise<number> {
    const row = await this.db
      .selectFrom("ledger")
      .select((eb) => eb.fn.sum<number | string | null>("amount").as("total"))
      .where("team_id", "=", teamId)
      .where("kind", "=", "grant")
      .executeTakeFirst();
    return Number(row?.total ?? 0);
  }

  async entries(teamId: string, limit: number): Promise<LedgerEntry[]> {
    const rows = await this.db
      .selectFrom("ledger")
      .selectAll()
      .where("team_id", "=", teamId)
      .orderBy("at", "desc")
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return rows.map(toEntry);
  }

  async spend(e: {
    teamId: string;
    amount: number;
    scrapeId: string;
    nodeId: string;
    ref: string;
    note: string;
    at: number;
    apiKeyId?: string | null;
  }): Promise<{ ok: true } | { ok: false; available: number }> {
    return this.db.transaction().execute(async (trx) => {
      if (!(await lockTeam(trx, e.teamId))) return { ok: false, available: 0 };
      const available = await availableCredits(trx, e.teamId);
      if (available < e.amount) return { ok: false, available };
      if (
        await appendEntry(trx, {
          team_id: e.teamId,
          kind: "charge",
          amount: -e.amount,
          scrape_id: e.scrapeId,
          ref: e.ref,
          note: e.note,
          at: e.at,
          api_key_id: e.apiKeyId ?? null,
        })
      ) {
        await openScrapeCharge(trx, e);
      }
      return { ok: true };
    });
  }

  resolveScrapeCharge(e: {
    scrapeId: string;
    ref: string;
    note: string;
    amount?: number;
    at: number;
  }): Promise<"none" | "stored" | "refunded"> {
    return resolveScrapeCharge(this.db, e);
  }

  openScrapeCharges(q: { nodeId?: string; before: number; limit: number }): Promise<string[]> {
    return openScrapeCharges(this.db, q);
  }

  async refund(e: {
    teamId: string;
    amount: number;
    scrapeId: string | null;
    ref: string;
    note: string;
    at: number;
  }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (!(await lockTeam(trx, e.teamId))) return;
      await appendEntry(trx, {
        team_id: e.teamId,
        kind: "refund",
        amount: e.amount,
        scrape_id: e.scrapeId,
        ref: e.ref,
        note: e.note,
        at: e.at,
      });
    });
  }

  async reserveUpTo(e: {
    teamId: string;
    sessionId: string;
    total: number;
    note: string;
    at: number;
  }): Promise<{ ok: true } | { ok: false; needed: number; available: number }> {
    return this.db.transaction().execute(async (trx) => {
      if (!(await lockTeam(trx, e.teamId))) return { ok: false, needed: e.total, available: 0 };
      // A settled session (its refund is written) has nothing left to hold for.
      const settled = await trx
        .selectFrom("ledger")
        .select("id")
        .where("ref", "=", sessionRef.refund(e.sessionId))
        .executeTakeFirst();
      if (settled) return { ok: true };
      const needed = e.total - (await heldBySession(trx, e.sessionId));
      if (needed <= 0) return { ok: true };
      const available = await availableCredits(trx, e.teamId);
      if (available < needed) return { ok: false, needed, available };
      await appendEntry(trx, {
        team_id: e.teamId,
        kind: "reservation",
        amount: -needed,
        session_id: e.sessionId,
        note: e.note,
        at: e.at,
      });
      return { ok: true };
    });
  }

  async settle(e: {
    teamId: string;
    sessionId: string;
    charge: number;
    at: number;
  }): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      if (!(await lockTeam(trx, e.teamId))) return 0;
      const charged = await trx
        .selectFrom("ledger")
        .select("amount")
        .where("ref", "=", sessionRef.charge(e.sessionId))
        .executeTakeFirst();
      if (charged) return -Number(charged.amount);
      const held = await heldBySession(trx, e.sessionId);
      if (held > 0) {
        await appendEntry(trx, {
          team_id: e.teamId,
          kind: "refund",
          amount: held,
          session_id: e.sessionId,
          ref: sessionRef.refund(e.sessionId),
          note: "reservation returned at settlement",
          at: e.at,
        });
      }
      // The reservation covers every charge the server computes; this cap only keeps the
      // balance from going negative should it not (a rate changed between start and end).
      const available = await availableCredits(trx, e.teamId);
      const amount = Math.max(0, Math.min(e.charge, available));
      const opener = await trx
        .selectFrom("sessions")
        .select("api_key_id")
        .where("id", "=", e.sessionId)
        .executeTakeFirst();
      await appendEntry(trx, {
        team_id: e.teamId,
        kind: "charge",
        amount: -amount,
        session_id: e.sessionId,
        ref: sessionRef.charge(e.sessionId),
        note:
          amount < e.charge
            ? `browser session (${e.charge} due, ${e.charge - amount} uncovered)`
            : "browser session",
        at: e.at,
        // The session's charge is the key's that opened it.
        api_key_id: opener?.api_key_id ?? null,
      });
      // Kept with the session's history, in the same step as the charge it names.
      await trx
        .updateTable("sessions")
        .set({ credits_billed: amount })
        .where("id", "=", e.sessionId)
        .execute();
      return amount;
    });
  }

  async unsettled(): Promise<SessionRecord[]> {
    const rows = await this.db
      .selectFrom("sessions as s")
      .selectAll("s")
      .where("s.status", "=", "destroyed")
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom("ledger as l")
            .select("l.id")
            .whereRef("l.session_id", "=", "s.id")
            .where("l.kind", "=", "reservation"),
        ),
      )
      .where(({ not, exists }) => not(exists(refundOf(this.db, "s.id"))))
      .execute();
    return rows.map(toSessionRecord);
  }

  async usage(q: {
    teamId: string;
    bounds: readonly number[];
    byKey: boolean;
  }): Promise<UsageRow[]> {
    return usageByBin(this.db, q);
  }

  private async balanceIn(db: Kysely<Database>, teamId: string): Promise<Balance> {
    const available = await availableCredits(db, teamId);
    const open = await db
      .selectFrom("ledger as l")
      .select((eb) => eb.fn.sum<number | string | null>("l.amount").as("total"))
      .where("l.team_id", "=", teamId)
      .where("l.kind", "=", "reservation")
      .where(({ not, exists }) => not(exists(refundOf(this.db, "l.session_id"))))
      .executeTakeFirst();
    return { available, reserved: 0 - Number(open?.total ?? 0) };
  }
}

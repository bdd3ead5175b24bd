import { randomUUID } from "node:crypto";
import { sql, type Kysely } from "kysely";
import type { Database, LedgerTable } from "../schema.js";

type Db = Kysely<Database>;

/**
 * Takes the team's write lock for the rest of the transaction: a row lock on Postgres, the
 * database's write lock on SQLite. Every check-then-write on a team's credits or sessions starts
 * here, so two of them for one team never interleave. False when the team does not exist.
 */
export async function lockTeam(trx: Db, teamId: string): Promise<boolean> {
  const res = await trx
    .updateTable("teams")
    .set({ name: sql`name` })
    .where("id", "=", teamId)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** The team's balance: the sum of its ledger. */
export async function availableCredits(trx: Db, teamId: string): Promise<number> {
  const row = await trx
    .selectFrom("ledger")
    .select((eb) => eb.fn.sum<number | string | null>("amount").as("total"))
    .where("team_id", "=", teamId)
    .executeTakeFirst();
  return Number(row?.total ?? 0);
}

/** Credits still held by a session's reservations (0 once it is settled or released). */
export async function heldBySession(trx: Db, sessionId: string): Promise<number> {
  const rows = await trx
    .selectFrom("ledger")
    .select(["kind", "amount"])
    .where("session_id", "=", sessionId)
    .where("kind", "in", ["reservation", "refund"])
    .execute();
  if (rows.some((r) => r.kind === "refund")) return 0;
  return 0 - rows.reduce((sum, r) => sum + Number(r.amount), 0);
}

/** Appends an entry; false when its ref was used already (the entry exists). */
export async function appendEntry(
  trx: Db,
  e: Omit<LedgerTable, "id" | "session_id" | "scrape_id" | "ref" | "note" | "api_key_id"> &
    Partial<Pick<LedgerTable, "session_id" | "scrape_id" | "ref" | "note" | "api_key_id">>,
): Promise<boolean> {
  const res = await trx
    .insertInto("ledger")
    .values({
      id: randomUUID(),
      session_id: null,
      scrape_id: null,
      ref: null,
      note: null,
      api_key_id: null,
      ...e,
    })
    .onConflict((oc) => oc.column("ref").doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** Refs that make an entry happen at most once per session. */
export const sessionRef = {
  reservation: (id: string) => `reservation:${id}`,
  refund: (id: string) => `refund:${id}`,
  charge: (id: string) => `charge:${id}`,
};

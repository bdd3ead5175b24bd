import type { Kysely } from "kysely";
import type { Database } from "../schema.js";
import { appendEntry, lockTeam } from "./ledger-ops.js";

type Db = Kysely<Database>;

/**
 * A scrape's charge between its taking and its outcome: a row of `scrape_charges`, written in
 * the charge's transaction and removed in the transaction that records the scrape
 * (KyselyScrapeRepository.insert) or gives the credit back (resolveScrapeCharge). A row left
 * over names a charge whose scrape died with an outage or a killed server.
 */
export async function openScrapeCharge(
  trx: Db,
  e: { scrapeId: string; teamId: string; nodeId: string; amount: number; at: number },
): Promise<void> {
  await trx
    .insertInto("scrape_charges")
    .values({
      scrape_id: e.scrapeId,
      team_id: e.teamId,
      node_id: e.nodeId,
      amount: e.amount,
      at: e.at,
    })
    .execute();
}

/**
 * Closes a scrape's open charge: kept if the scrape was stored after all, otherwise `amount`
 * of it (all by default; 0 keeps the price and records why) refunded, once: the row goes in the
 * same transaction, under the team's lock.
 */
export async function resolveScrapeCharge(
  db: Db,
  e: { scrapeId: string; ref: string; note: string; amount?: number; at: number },
): Promise<"none" | "stored" | "refunded"> {
  const first = await db
    .selectFrom("scrape_charges")
    .select("team_id")
    .where("scrape_id", "=", e.scrapeId)
    .executeTakeFirst();
  if (!first) return "none";
  return db.transaction().execute(async (trx) => {
    await lockTeam(trx, first.team_id);
    // Under the team's lock: another node may have closed it meanwhile.
    const charge = await trx
      .selectFrom("scrape_charges")
      .selectAll()
      .where("scrape_id", "=", e.scrapeId)
      .executeTakeFirst();
    if (!charge) return "none";
    await trx.deleteFrom("scrape_charges").where("scrape_id", "=", e.scrapeId).execute();
    const stored = await trx
      .selectFrom("scrapes")
      .select("id")
      .where("id", "=", e.scrapeId)
      .executeTakeFirst();
    if (stored) return "stored";
    await appendEntry(trx, {
      team_id: charge.team_id,
      kind: "refund",
      amount: Math.max(0, Math.min(e.amount ?? Number(charge.amount), Number(charge.amount))),
      scrape_id: e.scrapeId,
      ref: e.ref,
      note: e.note,
      at: e.at,
    });
    return "refunded";
  });
}

/** Open charges: any node's taken before `before`, and with `nodeId` all of that node's. */
export async function openScrapeCharges(
  db: Db,
  q: { nodeId?: string; before: number; limit: number },
): Promise<string[]> {
  const { nodeId, before } = q;
  const rows = await db
    .selectFrom("scrape_charges")
    .select("scrape_id")
    .where((eb) =>
      nodeId === undefined
        ? eb("at", "<", before)
        : eb.or([eb("node_id", "=", nodeId), eb("at", "<", before)]),
    )
    .orderBy("at")
    .limit(q.limit)
    .execute();
  return rows.map((r) => r.scrape_id);
}

import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Database } from "../schema.js";
import type { UsageRow } from "../repositories.js";

/**
 * The bin a charge taken at `c.at` falls in: `i` while `c.at < bounds[i + 1]`. Bin numbers are
 * written as literals (our own small integers) so that both databases type them as integers.
 */
function binOf(bounds: readonly number[]): RawBuilder<number> {
  const inner = bounds.slice(1, -1);
  if (inner.length === 0) return sql<number>`${sql.lit(0)}`;
  const whens = inner.map((edge, i) => sql`when c.at < ${edge} then ${sql.lit(i)}`);
  return sql<number>`case ${sql.join(whens, sql` `)} else ${sql.lit(inner.length)} end`;
}

/**
 * Credits a team used per bin (and per key): each charge taken in the window, less what was
 * refunded of it. Only a scrape's charge is ever refunded (a refund with its scrape's id and no
 * session: a session's refunds give back its reservation, not its charge), and a refund belongs
 * to the bin of its charge, so a bin never goes below zero.
 */
export async function usageByBin(
  db: Kysely<Database>,
  q: { teamId: string; bounds: readonly number[]; byKey: boolean },
): Promise<UsageRow[]> {
  const { bounds } = q;
  if (bounds.length < 2) throw new Error("usage needs at least two bin edges");
  const charges = db
    .selectFrom("ledger as c")
    .select((eb) => [
      binOf(bounds).as("bin"),
      (q.byKey ? sql<string | null>`c.api_key_id` : sql<string | null>`null`).as("api_key_id"),
      sql<number>`${eb.neg(eb.ref("c.amount"))} - coalesce(${eb
        .selectFrom("ledger as r")
        .select((r) => r.fn.sum<number>("r.amount").as("refunded"))
        .whereRef("r.scrape_id", "=", "c.scrape_id")
        .where("r.kind", "=", "refund")
        .where("r.session_id", "is", null)}, 0)`.as("used"),
    ])
    .where("c.team_id", "=", q.teamId)
    .where("c.kind", "=", "charge")
    .where("c.at", ">=", bounds[0]!)
    .where("c.at", "<", bounds[bounds.length - 1]!);
  const rows = await db
    .selectFrom(charges.as("u"))
    .select((eb) => ["u.bin", "u.api_key_id", eb.fn.sum<number | string>("u.used").as("credits")])
    .groupBy(["u.bin", "u.api_key_id"])
    .orderBy("u.bin")
    .execute();
  return rows.map((r) => ({
    bin: Number(r.bin),
    apiKeyId: r.api_key_id,
    credits: Number(r.credits),
  }));
}

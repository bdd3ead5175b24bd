import type { Kysely } from "kysely";
import type { Database } from "../schema.js";
import type { ScrapeCacheRepository } from "../repositories.js";

/** Recent scrape results keyed by URL + options, for maxAge. */
export class KyselyCacheRepository implements ScrapeCacheRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(key: string, maxAgeMs: number, now = Date.now()): Promise<unknown | undefined> {
    const row = await this.db
      .selectFrom("scrape_cache")
      .select(["document", "created_at"])
      .where("key", "=", key)
      .where("created_at", ">=", now - maxAgeMs)
      .executeTakeFirst();
    return row ? JSON.parse(row.document) : undefined;
  }

  async put(key: string, document: unknown, now = Date.now()): Promise<void> {
    const json = JSON.stringify(document);
    await this.db
      .insertInto("scrape_cache")
      .values({ key, document: json, created_at: now })
      .onConflict((oc) => oc.column("key").doUpdateSet({ document: json, created_at: now }))
      .execute();
  }

  async prune(maxAgeMs: number, now = Date.now()): Promise<number> {
    const res = await this.db
      .deleteFrom("scrape_cache")
      .where("created_at", "<", now - maxAgeMs)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

import { sql, type Kysely } from "kysely";
import type { Database } from "../schema.js";
import type { Store } from "../repositories.js";
import { KyselyCacheRepository } from "./cache.js";
import { KyselyCreditRepository } from "./credits.js";
import { KyselyDownloadRepository } from "./downloads.js";
import { KyselyFileRepository } from "./files.js";
import { KyselyNodeRepository } from "./nodes.js";
import { KyselyProfileRepository } from "./profiles.js";
import { KyselyRecordingRepository } from "./recordings.js";
import { KyselyScrapeRepository } from "./scrapes.js";
import { KyselySessionRepository } from "./sessions.js";
import { KyselyApiKeyRepository, KyselyTeamRepository } from "./teams.js";

/** The repositories over one Kysely database: the same code for every dialect. */
export function kyselyStore(db: Kysely<Database>, dialect: Store["dialect"]): Store {
  return {
    dialect,
    scrapes: new KyselyScrapeRepository(db),
    cache: new KyselyCacheRepository(db),
    sessions: new KyselySessionRepository(db),
    teams: new KyselyTeamRepository(db),
    keys: new KyselyApiKeyRepository(db),
    credits: new KyselyCreditRepository(db),
    profiles: new KyselyProfileRepository(db),
    files: new KyselyFileRepository(db),
    recordings: new KyselyRecordingRepository(db),
    nodes: new KyselyNodeRepository(db),
    downloads: new KyselyDownloadRepository(db),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

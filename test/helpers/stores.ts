import { afterAll, afterEach } from "vitest";
import type { Store } from "../../src/store/repositories.js";
import { openPostgresStore } from "../../src/store/postgres.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { createTestDatabase, dropTestDatabases } from "./postgres.js";
import { tempDataDir } from "./server.js";

/** A fresh empty store of one dialect, and a way to open the same database again. */
export interface FreshStore {
  store: Store;
  reopen(): Promise<Store>;
}

export interface StoreKind {
  name: "sqlite" | "postgres";
  /** Server env that puts a test server on a fresh database of this kind. */
  env(): Promise<Record<string, string>>;
  fresh(): Promise<FreshStore>;
}

const opened: Store[] = [];
const track = (s: Store) => (opened.push(s), s);

/**
 * Both stores the server runs on: every test written against STORE_KINDS holds for SQLite and
 * for a real Postgres (a throwaway cluster the test run starts).
 */
export const STORE_KINDS: StoreKind[] = [
  {
    name: "sqlite",
    env: async () => ({}),
    fresh: async () => {
      const dir = tempDataDir();
      return {
        store: track(await openSqliteStore(dir)),
        reopen: async () => track(await openSqliteStore(dir)),
      };
    },
  },
  {
    name: "postgres",
    env: async () => ({ DATABASE_URL: await createTestDatabase() }),
    fresh: async () => {
      const url = await createTestDatabase();
      return {
        store: track(await openPostgresStore(url)),
        reopen: async () => track(await openPostgresStore(url)),
      };
    },
  },
];

/** Closes the stores a test opened, and drops its Postgres databases when the file is done. */
export function closeStoresAfterEach(): void {
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close().catch(() => {});
  });
  afterAll(() => dropTestDatabases());
}

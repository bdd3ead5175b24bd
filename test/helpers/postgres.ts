import { randomBytes } from "node:crypto";
import pg from "pg";
import { startPostgres } from "../../scripts/throwaway-postgres.mjs";

export interface PostgresCluster {
  /** The superuser's URL of the `postgres` database: postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  /** Ends the server at once (no checkpoint: nothing in it is kept) and removes its folder. */
  stop(): Promise<void>;
  /**
   * Stops the server (an outage: open connections are cut, new ones refused) and keeps its
   * data; `resume()` starts it again on the same port.
   */
  halt(): Promise<void>;
  resume(): Promise<void>;
}

/** Starts a throwaway PostgreSQL server in a fresh folder under `root` (the cluster script's). */
export function startPostgresCluster(root: string): Promise<PostgresCluster> {
  return startPostgres(root) as Promise<PostgresCluster>;
}

/** Databases this process made, dropped by dropTestDatabases(). */
const created: string[] = [];

function clusterUrl(): string {
  const url = process.env.FC_TEST_PG_URL;
  if (!url) {
    throw new Error(
      "FC_TEST_PG_URL is not set: test/global-setup.ts starts the PostgreSQL test cluster, " +
        "so run these tests through vitest",
    );
  }
  return url;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: clusterUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database on the run's cluster and returns its URL. */
export async function createTestDatabase(): Promise<string> {
  const name = `t_${randomBytes(8).toString("hex")}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  created.push(name);
  const url = new URL(clusterUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops the databases createTestDatabase() made in this process, closing their connections. */
export async function dropTestDatabases(): Promise<void> {
  if (created.length === 0) return;
  const names = created.splice(0);
  await withAdmin(async (c) => {
    for (const name of names) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}

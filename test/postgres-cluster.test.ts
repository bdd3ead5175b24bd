import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase, dropTestDatabases } from "./helpers/postgres.js";

afterAll(() => dropTestDatabases());

describe("PostgreSQL test cluster", () => {
  it("gives each caller its own working database", async () => {
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    expect(a).not.toBe(b);

    const client = new pg.Client({ connectionString: a });
    await client.connect();
    try {
      await client.query("create table t(x int)");
      await client.query("insert into t values (1), (2), (3)");
      const res = await client.query("select x from t order by x");
      expect(res.rows.map((r) => r.x)).toEqual([1, 2, 3]);
      const db = await client.query("select current_database() as name");
      expect(db.rows[0].name).toBe(new URL(a).pathname.slice(1));
    } finally {
      await client.end();
    }

    // The second database is a separate one: the table made in the first is not there.
    const other = new pg.Client({ connectionString: b });
    await other.connect();
    try {
      const res = await other.query("select to_regclass('public.t') as t");
      expect(res.rows[0].t).toBeNull();
    } finally {
      await other.end();
    }
  });

  it("drops the databases it made", async () => {
    const url = await createTestDatabase();
    const name = new URL(url).pathname.slice(1);
    // An open connection must not keep the database alive.
    const held = new pg.Client({ connectionString: url });
    await held.connect();
    held.on("error", () => {}); // the forced drop ends this connection
    await dropTestDatabases();
    const admin = new pg.Client({ connectionString: process.env.FC_TEST_PG_URL });
    await admin.connect();
    try {
      const res = await admin.query("select 1 from pg_database where datname = $1", [name]);
      expect(res.rowCount).toBe(0);
    } finally {
      await admin.end();
      await held.end().catch(() => {});
    }
  });
});

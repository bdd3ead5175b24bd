import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import SQLite from "better-sqlite3";
import pg from "pg";
import { describe, expect, test } from "vitest";
import { isDatabaseUnavailable } from "./database-unavailable.js";

/** The error a call throws, or undefined when it does not. */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("errors that mean the database is unavailable", () => {
  test("pg: no server to connect to, a connection cut, a server shutting down", async () => {
    const refused = await thrown(async () => {
      const client = new pg.Client({ host: "127.0.0.1", port: 1, connectionTimeoutMillis: 5_000 });
      await client.connect();
    });
    expect(refused).toBeDefined();
    expect(isDatabaseUnavailable(refused)).toBe(true);
    expect(isDatabaseUnavailable(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(isDatabaseUnavailable(new Error("timeout exceeded when trying to connect"))).toBe(true);
    const shutdown = Object.assign(
      new Error("terminating connection due to administrator command"),
      {
        code: "57P01",
      },
    );
    expect(isDatabaseUnavailable(shutdown)).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error("x"), { code: "08006" }))).toBe(true);
    // Wrapped, as a layer above may hand it on.
    expect(isDatabaseUnavailable(new Error("claim failed", { cause: shutdown }))).toBe(true);
  });

  test("SQLite: a full database, a lock held past the busy timeout", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fc-dbu-"));
    const file = path.join(dir, "t.db");
    const a = new SQLite(file);
    const b = new SQLite(file);
    try {
      a.exec("create table t (v text)");
      a.pragma("max_page_count = 2");
      const full = (() => {
        try {
          for (let i = 0; i < 1_000; i++)
            a.prepare("insert into t values (?)").run("x".repeat(500));
        } catch (err) {
          return err;
        }
      })();
      expect((full as { code?: string }).code).toBe("SQLITE_FULL");
      expect(isDatabaseUnavailable(full)).toBe(true);

      b.pragma("busy_timeout = 0");
      a.exec("begin immediate");
      const busy = (() => {
        try {
          b.exec("begin immediate");
        } catch (err) {
          return err;
        }
      })();
      a.exec("rollback");
      expect((busy as { code?: string }).code).toBe("SQLITE_BUSY");
      expect(isDatabaseUnavailable(busy)).toBe(true);
    } finally {
      a.close();
      b.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("not: a bad statement, a broken constraint, a plain bug", () => {
    const db = new SQLite(":memory:");
    try {
      db.exec("create table t (v text primary key)");
      db.prepare("insert into t values ('a')").run();
      let err: unknown;
      try {
        db.prepare("insert into t values ('a')").run();
      } catch (e) {
        err = e;
      }
      expect((err as { code?: string }).code).toMatch(/^SQLITE_CONSTRAINT/);
      expect(isDatabaseUnavailable(err)).toBe(false);
      expect(() => db.prepare("selec 1")).toThrow();
    } finally {
      db.close();
    }
    expect(isDatabaseUnavailable(Object.assign(new Error("x"), { code: "42P01" }))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError("undefined is not a function"))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});

import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, test } from "vitest";
import { dropTestDatabases } from "./helpers/postgres.js";
import { tempDataDir } from "./helpers/server.js";
import { STORE_KINDS } from "./helpers/stores.js";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
afterAll(() => dropTestDatabases());

/** `npm run admin -- ...args` as an operator runs it, on the database env names. */
async function admin(env: Record<string, string>, ...args: string[]) {
  try {
    const { stdout, stderr } = await run("npm", ["run", "-s", "admin", "--", ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err: any) {
    return { code: err.code as number, stdout: err.stdout as string, stderr: err.stderr as string };
  }
}

describe.each(STORE_KINDS)("npm run admin on $name", (kind) => {
  test("creates a team and a key, grants credits, and shows them", async () => {
    const env = { DATA_DIR: tempDataDir(), ...(await kind.env()) };
    const team = await admin(env, "team", "create", "cli-team", "--json");
    expect(team.code).toBe(0);
    expect(JSON.parse(team.stdout)).toMatchObject({ name: "cli-team", id: expect.any(String) });
    const key = await admin(env, "key", "create", "cli-team");
    expect(key.stdout).toMatch(/\n {2}fc-[A-Za-z0-9_-]{43}\n/);
    expect((await admin(env, "credits", "grant", "cli-team", "25")).stdout).toContain(
      "25 available",
    );
    const shown = await admin(env, "team", "show", "cli-team", "--json");
    expect(JSON.parse(shown.stdout)).toMatchObject({
      balance: { available: 25, reserved: 0 },
      maxSessions: 5,
      keys: [{ revokedAt: null }],
    });
    const missing = await admin(env, "key", "list", "nobody");
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('No team "nobody"') });
  }, 60_000);
});

test("a bad database setting is reported, not thrown", async () => {
  const res = await admin({ DATABASE_URL: "mysql://x" }, "team", "list");
  expect(res.code).toBe(1);
  expect(res.stderr).toContain("DATABASE_URL");
  expect(res.stderr).not.toContain("    at ");
});

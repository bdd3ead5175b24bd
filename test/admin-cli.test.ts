import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, test } from "vitest";
import { runAdmin } from "../src/admin/commands.js";
import { openStore } from "../src/store/open.js";
import { hasControlCharacters } from "../src/text/printable.js";
import { TeamService } from "../src/teams/service.js";
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

test("names a tenant chose cannot drive the operator's terminal or forge rows", async () => {
  const store = await openStore({ dataDir: tempDataDir() });
  try {
    const teams = new TeamService({ store, maxSessions: 5 });
    const connect = async () => teams;
    const team = await teams.createTeam("tty-team");
    // As stored before names were checked at the API, or written by another way in.
    const hostile = [
      "clear\u001b[2J\u001b]0;owned\u0007",
      "real\nforged  999  never  no",
      "x\u009b31m",
    ];
    for (const name of hostile) {
      await store.profiles.checkout({ teamId: team.id, name, at: Date.now() });
    }
    await teams.createKey("tty-team", "label\r\u001b[1Ainjected");

    for (const args of [
      ["profile", "list", "tty-team"],
      ["key", "list", "tty-team"],
      ["team", "show", "tty-team"],
      ["profile", "list", "tty-team", "--json"],
      ["profile", "delete", "tty-team", "gone\u001b[2J"],
    ]) {
      const res = await runAdmin(args, connect);
      const printed = res.stdout + res.stderr;
      // Line breaks are the command's own; nothing else in it steers a terminal.
      expect(hasControlCharacters(printed.replace(/\n/g, "")), args.join(" ")).toBe(false);
    }
    const listed = (await runAdmin(["profile", "list", "tty-team"], connect)).stdout;
    expect(listed.trim().split("\n")).toHaveLength(1 + hostile.length);
    expect(listed).toContain("clear\\x1b[2J");
    const json = (await runAdmin(["profile", "list", "tty-team", "--json"], connect)).stdout;
    expect(
      JSON.parse(json)
        .map((p: { name: string }) => p.name)
        .sort(),
    ).toEqual(hostile.sort());
  } finally {
    await store.close();
  }
});

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";

import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./ports.js";

const execFileAsync = promisify(execFile);

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

const TOOLS = ["initdb", "pg_ctl", "postgres"] as const;
type Tool = (typeof TOOLS)[number];

/**
 * initdb, pg_ctl and postgres: from Debian's versioned folder (newest first), which is not on
 * PATH, else from PATH.
 */
function serverBinaries(): Record<Tool, string> {
  const debian = "/usr/lib/postgresql";
  let versions: string[] = [];
  try {
    versions = fs.readdirSync(debian).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {}
  versions.sort((a, b) => parseFloat(b) - parseFloat(a));
  for (const v of versions) {
    const bin = path.join(debian, v, "bin");
    if (TOOLS.every((t) => isExecutable(path.join(bin, t)))) {
      return Object.fromEntries(TOOLS.map((t) => [t, path.join(bin, t)])) as Record<Tool, string>;
    }
  }
  const found: Partial<Record<Tool, string>> = {};
  for (const t of TOOLS) {
    const hit = findExecutable(t);
    if (!hit) {
      throw new Error(
        `PostgreSQL server binaries not found (${t}); install Debian's postgresql package: ` +
          "apt-get install -y postgresql",
      );
    }
    found[t] = hit;
  }
  return found as Record<Tool, string>;
}

function findExecutable(name: string, extraDirs: string[] = []): string | undefined {
  return [...(process.env.PATH ?? "").split(path.delimiter), ...extraDirs]
    .filter(Boolean)
    .map((dir) => path.join(dir, name))
    .find(isExecutable);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

interface Account {
  uid: number;
  gid: number;
  setpriv: string;
}

/** initdb, pg_ctl and postgres refuse to run as root; as root they run as this account. */
async function serverAccount(): Promise<Account | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const setpriv = findExecutable("setpriv", ["/usr/bin", "/bin"]);
  if (!setpriv) {
    throw new Error(
      "PostgreSQL cannot run as root, and setpriv is missing to run it as another user; " +
        "install util-linux: apt-get install -y util-linux",
    );
  }
  for (const name of ["postgres", "nobody"]) {
    try {
      const uid = Number((await execFileAsync("id", ["-u", name])).stdout.trim());
      const gid = Number((await execFileAsync("id", ["-g", name])).stdout.trim());
      return { uid, gid, setpriv };
    } catch {}
  }
  throw new Error("PostgreSQL cannot run as root, and there is no postgres or nobody account");
}

/**
 * Starts a throwaway PostgreSQL server in a fresh folder under `root`: loopback TCP only, its
 * socket inside that folder, trust authentication, superuser `postgres`, durability off.
 */
export async function startPostgresCluster(root: string): Promise<PostgresCluster> {
  const bin = serverBinaries();
  const account = await serverAccount();
  const dir = fs.mkdtempSync(path.join(root, "pg-"));
  const dataDir = path.join(dir, "data");
  const logFile = path.join(dir, "server.log");

  const run = async (tool: Tool, args: string[], timeoutMs: number): Promise<void> => {
    const [cmd, argv] = account
      ? [
          account.setpriv,
          [`--reuid=${account.uid}`, `--regid=${account.gid}`, "--init-groups", bin[tool], ...args],
        ]
      : [bin[tool], args];
    try {
      // cwd: the account may not be allowed into the caller's working directory.
      await execFileAsync(cmd, argv, { cwd: dir, timeout: timeoutMs, killSignal: "SIGKILL" });
    } catch (err: any) {
      const stderr = String(err.stderr ?? "").trim();
      let log = "";
      try {
        log = fs.readFileSync(logFile, "utf8").trim();
      } catch {}
      throw new Error(
        `PostgreSQL ${tool === "pg_ctl" ? `pg_ctl ${args[0]}` : tool} failed` +
          (err.killed
            ? ` (no answer within ${timeoutMs / 1000} s)`
            : typeof err.code === "number"
              ? ` (exit code ${err.code})`
              : ` (${err.message})`) +
          (stderr ? `:\n${stderr}` : "") +
          (log ? `\nserver log:\n${log}` : ""),
      );
    }
  };

  try {
    if (account) {
      // mkdtemp folders are 0700: the account needs to pass through `root` to reach its own.
      fs.chmodSync(root, (fs.statSync(root).mode & 0o7777) | 0o011);
      fs.chownSync(dir, account.uid, account.gid);
    }
    await run(
      "initdb",
      [
        "-D",
        dataDir,
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--no-locale",
        "--no-sync",
        "--no-instructions",
      ],
      60_000,
    );

    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const settings = {
        listen_addresses: "'127.0.0.1'",
        port: String(port),
        unix_socket_directories: `'${dir}'`,
        max_connections: "200",
        shared_buffers: "32MB",
        fsync: "off",
        synchronous_commit: "off",
        full_page_writes: "off",
        wal_level: "minimal",
        max_wal_senders: "0",
      };
      // Read after the postgresql.conf initdb wrote, so these win; rewritten whole on each try.
      fs.writeFileSync(
        path.join(dataDir, "postgresql.auto.conf"),
        Object.entries(settings)
          .map(([k, v]) => `${k} = ${v}\n`)
          .join(""),
      );
      try {
        await run(
          "pg_ctl",
          ["start", "-D", dataDir, "-l", logFile, "-p", bin.postgres, "-w", "-t", "30"],
          40_000,
        );
        return {
          url: `postgres://postgres@127.0.0.1:${port}/postgres`,
          stop: () => stopCluster(dir, dataDir, run),
          halt: () =>
            run("pg_ctl", ["stop", "-D", dataDir, "-m", "fast", "-w", "-t", "30"], 40_000),
          resume: () =>
            run(
              "pg_ctl",
              ["start", "-D", dataDir, "-l", logFile, "-p", bin.postgres, "-w", "-t", "30"],
              40_000,
            ),
        };
      } catch (err) {
        lastError = err;
        // Only a port taken between freePort() and the server's bind is worth another try.
        if (!/could not (bind|create listen)/i.test(String(err))) break;
      }
    }
    throw lastError;
  } catch (err) {
    await stopCluster(dir, dataDir, undefined).catch(() => {});
    throw err;
  }
}

async function stopCluster(
  dir: string,
  dataDir: string,
  run: ((tool: Tool, args: string[], timeoutMs: number) => Promise<void>) | undefined,
): Promise<void> {
  const pidFile = path.join(dataDir, "postmaster.pid");
  let error: unknown;
  if (run && fs.existsSync(pidFile)) {
    try {
      await run("pg_ctl", ["stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "30"], 40_000);
    } catch (err) {
      error = err;
    }
  }
  // A server pg_ctl could not stop would outlive its removed folder: SIGQUIT is what
  // `-m immediate` sends.
  if (fs.existsSync(pidFile)) {
    const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
    try {
      if (pid > 0) process.kill(pid, "SIGQUIT");
    } catch {}
  }
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  if (error) throw error;
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

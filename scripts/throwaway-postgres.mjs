// A throwaway PostgreSQL server, for `npm run cluster`, bench:cluster and the test run
// (test/helpers/postgres.ts): initdb and pg_ctl in a folder of its own, loopback TCP on a free
// port, trust authentication, durability off. Plain Node: it runs as scripts do, without tsx.
import { execFile } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const TOOLS = ["initdb", "pg_ctl", "postgres"];

/** A loopback port nothing listens on right now (a start retries if it is taken meanwhile). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const isExecutable = (file) => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

/** `name` on PATH or in `extraDirs`, else undefined. */
export function findExecutable(name, extraDirs = []) {
  return [...(process.env.PATH ?? "").split(path.delimiter), ...extraDirs]
    .filter(Boolean)
    .map((dir) => path.join(dir, name))
    .find(isExecutable);
}

/** initdb, pg_ctl and postgres: Debian's versioned folder (newest first), else PATH. */
function serverBinaries() {
  const debian = "/usr/lib/postgresql";
  let versions = [];
  try {
    versions = fs.readdirSync(debian).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {}
  versions.sort((a, b) => parseFloat(b) - parseFloat(a));
  for (const v of versions) {
    const bin = path.join(debian, v, "bin");
    if (TOOLS.every((t) => isExecutable(path.join(bin, t)))) {
      return Object.fromEntries(TOOLS.map((t) => [t, path.join(bin, t)]));
    }
  }
  const found = Object.fromEntries(TOOLS.map((t) => [t, findExecutable(t)]));
  const missing = TOOLS.filter((t) => !found[t]);
  if (missing.length > 0) {
    throw new Error(
      `PostgreSQL server binaries not found (${missing.join(", ")}); install Debian's ` +
        "postgresql package: apt-get install -y postgresql",
    );
  }
  return found;
}

/** initdb, pg_ctl and postgres refuse to run as root; as root they run as this account. */
async function serverAccount() {
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
 * Starts a server in a new folder under `root`. Resolves with its superuser URL; `stop()` ends it
 * at once (nothing in it is kept) and removes its folder; `halt()` stops it keeping its data (an
 * outage) and `resume()` starts it again on the same port.
 */
export async function startPostgres(root) {
  const bin = serverBinaries();
  const account = await serverAccount();
  const dir = fs.mkdtempSync(path.join(root, "pg-"));
  const dataDir = path.join(dir, "data");
  const logFile = path.join(dir, "server.log");

  const run = async (tool, args, timeoutMs) => {
    const [cmd, argv] = account
      ? [
          account.setpriv,
          [`--reuid=${account.uid}`, `--regid=${account.gid}`, "--init-groups", bin[tool], ...args],
        ]
      : [bin[tool], args];
    try {
      // detached: the server pg_ctl starts lands in a process group of its own, so a Ctrl-C at
      // the terminal reaches only the cluster script, which stops everything in order.
      await execFileAsync(cmd, argv, {
        cwd: dir,
        timeout: timeoutMs,
        killSignal: "SIGKILL",
        detached: true,
      });
    } catch (err) {
      let log = "";
      try {
        log = fs.readFileSync(logFile, "utf8").trim();
      } catch {}
      const stderr = String(err.stderr ?? "").trim();
      throw new Error(
        `PostgreSQL ${tool === "pg_ctl" ? `pg_ctl ${args[0]}` : tool} failed` +
          (err.killed ? ` (no answer within ${timeoutMs / 1000} s)` : ` (${err.message})`) +
          (stderr ? `:\n${stderr}` : "") +
          (log ? `\nserver log:\n${log}` : ""),
      );
    }
  };

  const stop = async () => {
    const pidFile = path.join(dataDir, "postmaster.pid");
    let error;
    if (fs.existsSync(pidFile)) {
      try {
        await run("pg_ctl", ["stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "30"], 40_000);
      } catch (err) {
        error = err;
      }
    }
    // A server pg_ctl could not stop would outlive its folder: SIGQUIT is `-m immediate`.
    if (fs.existsSync(pidFile)) {
      const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
      try {
        if (pid > 0) process.kill(pid, "SIGQUIT");
      } catch {}
    }
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    if (error) throw error;
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
    let lastError;
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
        const start = () =>
          run(
            "pg_ctl",
            ["start", "-D", dataDir, "-l", logFile, "-p", bin.postgres, "-w", "-t", "30"],
            40_000,
          );
        return {
          url: `postgres://postgres@127.0.0.1:${port}/postgres`,
          stop,
          halt: () =>
            run("pg_ctl", ["stop", "-D", dataDir, "-m", "fast", "-w", "-t", "30"], 40_000),
          resume: start,
        };
      } catch (err) {
        lastError = err;
        // Only a port taken between freePort() and the server's bind is worth another try.
        if (!/could not (bind|create listen)/i.test(String(err))) break;
      }
    }
    throw lastError;
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

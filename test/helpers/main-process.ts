import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "./ports.js";
import { tempDataDir } from "./server.js";

export interface MainProcess {
  url: string;
  /** Everything it printed so far, stdout and stderr together. */
  output(): string;
  /** SIGTERM, then waits for it to exit; resolves with its output. */
  stop(): Promise<string>;
  /** SIGKILL (a crash: nothing of its own shutdown runs), then waits for it to be gone. */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Starts `src/main.ts` in its own process the way `npm start` does (Node with tsx's loader), on
 * a free loopback port (or env's PORT) with its own DATA_DIR; resolves once /health answers. The
 * test's own event loop is then separate from the server's, so it can watch the server stall.
 */
export async function startMain(env: Record<string, string> = {}): Promise<MainProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: tempDataDir(),
      PORT: String(port),
      HOST: "127.0.0.1",
      BROWSER_POOL_SIZE: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise((r) => child.once("exit", r));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill("SIGTERM");
    await exited;
    running.delete(child);
    return out;
  };
  const kill = async () => {
    child.kill("SIGKILL");
    await exited;
    running.delete(child);
  };
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, output: () => out, stop, kill };
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`src/main.ts did not start:\n${out}`);
}

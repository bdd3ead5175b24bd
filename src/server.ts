import path from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp, serverLogger } from "./app.js";
import type { Config } from "./config/config.js";
import { profilesRoot } from "./chromium/chromium-process.js";
import { findChromium, isHeadlessShell } from "./chromium/find-chromium.js";
import { releaseStaleUidLeases } from "./isolation/uid-pool.js";
import { reapOrphans } from "./processes/reaper.js";
import { sandboxRoot } from "./sandbox/index.js";
import type { ServerOptions } from "./startup/build-services.js";
import { removeRunFolders } from "./sessions/resources.js";
import type { Services } from "./services.js";
import type { Logger } from "./log/logger.js";
import { buildServices } from "./startup/build-services.js";

export type { ServerOptions } from "./startup/build-services.js";
import { Lifecycle } from "./startup/lifecycle.js";

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  /** Base URL the server listens on, e.g. http://127.0.0.1:3002 */
  url: string;
  close(): Promise<void>;
}

/**
 * Clears what a killed predecessor left, builds the services (each registered to stop in
 * reverse order), and listens. Everything started here is stopped by close(); a start that fails
 * half-way stops what it had started.
 */
export async function startServer(
  config: Config,
  opts: ServerOptions = {},
): Promise<RunningServer> {
  // First: every part logs through it from the start, Fastify included.
  const log = serverLogger(config);
  const life = new Lifecycle(log);
  try {
    const reaped = clearLeftovers(config.dataDir);
    if (reaped > 0) log.warn({ reaped }, "killed processes left by an earlier run");
    const { services, own } = await buildServices(config, opts, log, life);
    const app = life.add("HTTP server", buildApp(config, services, log), {
      close: (a) => a.close(),
    });
    logBrowserBuild(log, config);
    await app.listen({ host: config.host, port: config.port });
    const addr = app.server.address();
    const port = typeof addr === "object" && addr ? addr.port : config.port;
    own.add(port);
    // Among nodes: the others may send work here only once it listens.
    await services.membership?.start();
    const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
    return { app, services, url: `http://${host}:${port}`, close: () => life.close() };
  } catch (err) {
    await life.close();
    throw err;
  }
}

/**
 * Kills the processes an earlier run of this server left and frees what they held (uid leases,
 * run folders); returns how many processes it killed.
 */
function clearLeftovers(dataDir: string): number {
  const reaped = reapOrphans([profilesRoot(dataDir) + path.sep, sandboxRoot(dataDir) + path.sep]);
  // The lease files are shared by every server on this machine: only those whose owner is gone
  // are freed.
  releaseStaleUidLeases();
  removeRunFolders(dataDir);
  return reaped;
}

/** Says which Chromium build browsers run; full Chromium when the headless shell is missing. */
function logBrowserBuild(log: Logger, config: Config): void {
  let executable: string;
  try {
    executable = findChromium(config.chromiumPath);
  } catch {
    return; // /health names what to install
  }
  if (isHeadlessShell(executable) || config.chromiumPath !== undefined) {
    log.info({ chromium: executable }, "browsers run this Chromium build");
    return;
  }
  log.warn(
    { chromium: executable },
    "browsers run full Chromium, about three times the memory of its headless shell: install " +
      "it with apt-get install -y chromium-headless-shell (npm start's setup does as root)",
  );
}

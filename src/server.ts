import os from "node:os";
import fs from "node:fs";
import path from "node:path";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { buildApp, serverLogger } from "./app.js";
import { SESSION_MEMORY_BUDGET_BYTES, type Config } from "./config/config.js";
import { artifactsRoot, profilesRoot } from "./browser/chromium-process.js";
import { releaseStaleUidLeases } from "./isolation/uid-pool.js";
import { findChromium, isHeadlessShell } from "./browser/find-chromium.js";
import { reapOrphans } from "./processes/reaper.js";
import { availableMemoryBytes } from "./health/memory.js";
import { SharedBrowser } from "./browser/shared-browser.js";
import { FileStore } from "./files/file-store.js";
import { LiveViewService } from "./liveview/service.js";
import { ScrapeService } from "./scrape/service.js";
import { CDP_PATH, CdpProxy, tooManyCdpConnections } from "./cdp/proxy.js";
import { InteractService } from "./interact/service.js";
import { SessionRunner } from "./interact/runner.js";
import { BrowserSessionService } from "./browser-sessions/service.js";
import { ProfileService } from "./profiles/service.js";
import { ServerMetrics } from "./metrics/metrics.js";
import { AgentService } from "./agent/service.js";
import {
  bashRuntime,
  CodeAvailability,
  nodeRuntime,
  pythonRuntime,
  SandboxDetector,
  sandboxRoot,
} from "./sandbox/index.js";
import { BrowserLauncher } from "./browser/launcher.js";
import { EgressProxy } from "./network/egress-proxy.js";
import { egressPolicy, OwnEndpoints } from "./network/egress-policy.js";
import { SessionFactory } from "./sessions/factory.js";
import { SessionLifetimes, type SessionEnded } from "./sessions/lifetimes.js";
import { SessionRegistry } from "./sessions/registry.js";
import { createSessionResources, removeRunFolders } from "./sessions/resources.js";
import { SessionService } from "./sessions/service.js";
import { WarmPool } from "./sessions/warm-pool.js";
import { rejectUpgrade, upgradeRefusal } from "./http/upgrade.js";
import type { Services } from "./services.js";
import { openStore } from "./store/open.js";
import { WriteRetry } from "./store/write-retry.js";
import { Billing } from "./teams/billing.js";
import { TeamService } from "./teams/service.js";

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  /** Base URL the server listens on, e.g. http://127.0.0.1:3002 */
  url: string;
  close(): Promise<void>;
}

export interface ServerOptions {
  /**
   * What counts as a private address when ALLOW_PRIVATE_NETWORK is off. Tests narrow it: on one
   * machine every address is private, so a local site has to play the public internet.
   */
  isPrivateAddress?: (address: string) => boolean;
  /**
   * Listens to every session's end, from the start (sessions a restart finds dead included):
   * where an embedding program hangs its own accounting.
   */
  onSessionEnded?: (e: SessionEnded) => void;
  /** bubblewrap to use instead of the system's; tests point it at a stand-in that fails. */
  bwrapPath?: string;
  /** The python runtime's virtual environment (default: the project's .venv). */
  pythonVenv?: string;
}

/**
 * Opens the store, reaps what a killed predecessor left, wires the services and listens.
 * Everything started here is stopped by close().
 */
export async function startServer(
  config: Config,
  opts: ServerOptions = {},
): Promise<RunningServer> {
  // First: every part logs through it from the start, Fastify included.
  const log = serverLogger(config);
  const marker = sandboxRoot(config.dataDir) + path.sep;
  const reaped = reapOrphans([profilesRoot(config.dataDir) + path.sep, marker]);
  // uid leases of servers killed without a chance to release them (the lease files are shared
  // by every server on this machine; only those whose owner is gone are freed).
  releaseStaleUidLeases();
  // Nothing of ours runs any more: what a killed predecessor left on disk goes too.
  removeRunFolders(config.dataDir);
  const store = await openStore(config);
  // Chromium is looked up lazily so that a machine without it still serves /health and clear 503s.
  let chromium: string | undefined;
  const chromiumPath = () => (chromium ??= findChromium(config.chromiumPath));
  const files = new FileStore(config.dataDir);
  // Team limits mean something only where there are teams: with authentication on.
  const teamLimit = (n: number) => (config.useDbAuthentication ? n : Infinity);
  const liveview = new LiveViewService({
    // Input in an interactive live view counts as activity for the session's idle timer.
    onInput: (id) => sessions.touchSession(id),
    maxViewersPerTeam: teamLimit(config.teamMaxLiveViewers),
    teamOf: (id): string | undefined => sessions.list().find((s) => s.id === id)?.teamId,
  });
  const detector = new SandboxDetector({ bwrapPath: opts.bwrapPath });
  const sandbox = detector.detect(config.sandbox);
  const code = CodeAvailability.create(sandbox, {
    root: sandboxRoot(config.dataDir),
    languages: [nodeRuntime, pythonRuntime(opts.pythonVenv), bashRuntime],
  });
  const sandboxMode = code.mode;

  // Every browser, scrape or session, is held to one network policy by one proxy.
  const own = new OwnEndpoints();
  const egress = EgressProxy.create({
    isBlocked: egressPolicy({
      allowPrivateNetwork: config.allowPrivateNetwork,
      own,
      isPrivate: opts.isPrivateAddress,
    }),
  });
  // Browsers are jailed whenever bubblewrap works here, even when user code is not (SANDBOX=none).
  const jailWorks = detector.bwrapWorks();
  const launcher = new BrowserLauncher({
    chromiumPath,
    jail: jailWorks
      ? {
          bwrapPath: detector.bwrapPath!,
          nodePath: fs.realpathSync(process.execPath),
          storageBytes: config.browserProfileBytes,
          marker,
        }
      : undefined,
    profilesRoot: profilesRoot(config.dataDir),
    socketDir: path.join(sandboxRoot(config.dataDir), "cdp"),
    artifactsRoot: artifactsRoot(config.dataDir),
    egress,
    cdpBacklog: { maxBytes: config.cdpMaxBacklogBytes, stallMs: config.cdpStallMs },
  });
  if (!jailWorks) own.add(Number(new URL(await egress.tcpUrl()).port));
  const browser = new SharedBrowser(launcher, log);

  const pool: WarmPool = new WarmPool({
    ceiling: sandboxMode ? config.browserPoolSize : 0,
    // Half the cores: a launch takes most of a core, and requests in flight need the rest.
    maxLaunches: Math.max(1, Math.floor(os.availableParallelism() / 2)),
    create: () =>
      createSessionResources({
        dataDir: config.dataDir,
        launcher,
        sandboxMode: sandboxMode ?? "none",
        code,
        cdpMaxMessageBytes: config.cdpMaxMessageBytes,
        cdpConnections: {
          max: config.cdpMaxConnectionsPerSession,
          refusal: upgradeRefusal(
            tooManyCdpConnections("sandbox", config.cdpMaxConnectionsPerSession),
          ),
        },
        // Worker starts and their output are routine; failures reach callers and warn elsewhere.
        log,
      }),
    onError: (err) => log.warn({ err }, "warm pool could not start a browser"),
    // Ahead of demand only while a session more would fit: under the cap and in free memory.
    roomForOne: (): boolean =>
      sessions.activeCount() + pool.readyCount + pool.launchingCount < config.maxBrowserSessions &&
      availableMemoryBytes() > config.minFreeMemoryBytes + 2 * SESSION_MEMORY_BUDGET_BYTES,
  });
  // Ends, settlements, refunds and releases the database could not take wait here until it can.
  const retry = new WriteRetry({
    log,
  });
  const registry = new SessionRegistry(store.sessions, config.nodeId, retry);
  const lifetimes = new SessionLifetimes({
    registry,
    ttlMs: config.sessionTtlMs,
    log: log,
    retry,
  });
  if (opts.onSessionEnded) lifetimes.onEnded(opts.onSessionEnded);
  // Levels are read when Prometheus asks; `sessions` and `cdp` exist by then.
  const metrics = new ServerMetrics({
    liveSessions: () => sessions.activeCount(),
    warmPool: () => ({ ready: pool.readyCount, takes: pool.takes }),
    cdpConnections: () => cdp.connectionCount,
    liveViewViewers: () => liveview.stats().viewers,
  });
  lifetimes.onEnded((e) => metrics.sessionEnded(e.reason));
  const billing = new Billing({
    store,
    enabled: config.useDbAuthentication,
    sessionTtlMs: config.sessionTtlMs,
    defaultMaxSessions: config.teamMaxSessions,
    log: log,
    onCharged: (kind, credits) => metrics.creditsCharged(kind, credits),
    nodeId: config.nodeId,
    retry,
  });
  // Before the leftovers are ended below: their end is billed like any other.
  billing.listen(lifetimes);
  const teams = new TeamService({
    store,
    maxSessions: config.teamMaxSessions,
    cacheTtlMs: config.apiKeyCacheMs,
    // Through an outage, a known key keeps working for the calls of its live sessions.
    hasLiveSession: (teamId) => sessions.list().some((s) => s.teamId === teamId),
  });
  const factory = new SessionFactory({
    takeResources: () => pool.take(),
    code,
    chromiumPath,
    log: log,
  });
  const profiles = new ProfileService(store, log);
  const sessions = new SessionService({
    // Like every team limit, only where there are teams: without authentication everyone is
    // one team, and the per-session bound alone applies.
    config: { ...config, teamMaxQueuedCalls: teamLimit(config.teamMaxQueuedCalls) },
    store,
    registry,
    factory,
    lifetimes,
    liveview,
    terms: billing,
    profiles,
    onCreated: (s, ms) => metrics.sessionCreated(s.shape.kind, ms / 1000),
  });
  // No browser survives a restart, so neither does a session: later calls on them answer 410.
  const orphanedSessions = await lifetimes.recoverLeftovers();
  // Sessions whose end was recorded but whose settling a killed run never finished.
  const settledLate = await billing.settleLeftovers();
  // Scrapes a killed run (or an outage) left charged with no outcome: refunded, once.
  const refundedLate = await billing.reconcileScrapes({ atStart: true });
  billing.startReconciling();
  const agent = new AgentService({
    provider: config.model,
    maxSteps: config.agentMaxSteps,
    snapshotTokens: config.agentSnapshotTokens,
  });
  const runner = new SessionRunner({
    sessions,
    code,
    agent,
    billing,
    onRun: (l, o, s) => metrics.interactRan(l, o, s),
  });
  const interact = new InteractService({ sessions, runner });
  const services: Services = {
    config,
    store,
    files,
    scrapes: new ScrapeService({
      config,
      store,
      files,
      browser,
      credits: billing,
      profiles,
      onDone: (outcome, seconds) => metrics.scrapeDone(outcome, seconds),
    }),
    liveview,
    sessions,
    lifetimes,
    interact,
    browsers: new BrowserSessionService({ sessions, runner }),
    metrics,
    health: {
      chromium: () => {
        try {
          chromiumPath();
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      },
      sandbox: sandboxMode ?? "unavailable",
      pool: () => ({
        ready: pool.readyCount,
        launching: pool.launchingCount,
        target: pool.target,
        size: sandboxMode ? config.browserPoolSize : 0,
      }),
    },
    teams,
    billing,
    agent,
    sandbox: sandboxMode ?? "unavailable",
    languageUnavailable: (language) => code.unavailable(language),
  };
  const app = buildApp(config, services, log);
  const cdp = new CdpProxy({
    findByToken: (t) => sessions.findByCdpToken(t),
    reject: rejectUpgrade,
    maxMessageBytes: config.cdpMaxMessageBytes,
    maxPerSession: config.cdpMaxConnectionsPerSession,
    maxPerTeam: teamLimit(config.teamMaxCdpConnections),
  });
  app.upgrades.add(CDP_PATH, cdp.handleUpgrade);
  if (reaped > 0) app.log.warn({ reaped }, "killed processes left by an earlier run");
  if (settledLate > 0) app.log.info({ sessions: settledLate }, "settled sessions left unbilled");
  if (refundedLate > 0) {
    app.log.info(
      { scrapes: refundedLate },
      "closed the charges of scrapes left without an outcome",
    );
  }
  if (orphanedSessions > 0) {
    app.log.info(
      { sessions: orphanedSessions },
      "sessions from before the restart are now destroyed",
    );
  }
  logBrowserBuild(app.log, chromiumPath, config.chromiumPath !== undefined);
  if (sandboxMode === "none") {
    app.log.warn(
      "SANDBOX=none: user code runs WITHOUT isolation. Never expose this server to others.",
    );
  } else if (!sandboxMode) {
    app.log.error(
      typeof sandbox === "string" ? {} : sandbox.unavailable,
      "code execution is disabled: no usable sandbox",
    );
  }
  pool.fill();
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.port;
  own.add(port);
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      cdp.close();
      await sessions.close();
      await lifetimes.close();
      // The sessions just ended are settled before the store closes under them.
      await billing.idle();
      billing.close();
      // One last try of what waits for the database; what it records is settled too.
      await retry.close();
      await billing.idle();
      await pool.close();
      liveview.close();
      await app.close();
      await services.scrapes.close();
      await browser.close();
      await egress.close();
      await code.close();
      removeRunFolders(config.dataDir);
      await store.close();
    })());
  return { app, services, url: `http://${host}:${port}`, close };
}

/** Says which Chromium build browsers run; full Chromium when the headless shell is missing. */
function logBrowserBuild(
  log: FastifyBaseLogger,
  chromiumPath: () => string,
  configured: boolean,
): void {
  let executable: string;
  try {
    executable = chromiumPath();
  } catch {
    return; // /health names what to install
  }
  if (isHeadlessShell(executable) || configured) {
    log.info({ chromium: executable }, "browsers run this Chromium build");
    return;
  }
  log.warn(
    { chromium: executable },
    "browsers run full Chromium, about three times the memory of its headless shell: install " +
      "it with apt-get install -y chromium-headless-shell (npm start's setup does as root)",
  );
}

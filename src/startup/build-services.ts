import os from "node:os";
import fs from "node:fs";
import path from "node:path";
import { SESSION_MEMORY_BUDGET_BYTES, type Config } from "../config/config.js";
import { artifactsRoot, profilesRoot } from "../chromium/chromium-process.js";
import { findChromium } from "../chromium/find-chromium.js";
import { availableMemoryBytes } from "../health/memory.js";
import { SharedBrowser } from "../chromium/shared-browser.js";
import { DatabaseFileStore } from "../files/database-file-store.js";
import { DiskFileStore } from "../files/disk-file-store.js";
import { LiveViewService } from "../liveview/service.js";
import { findFfmpeg, RecordingService } from "../recording/service.js";
import { ScrapeService } from "../scrape/service.js";
import { CdpProxy, tooManyCdpConnections } from "../cdp/proxy.js";
import { InteractService } from "../interact/service.js";
import { SessionRunner } from "../interact/runner.js";
import { BrowserSessionService } from "../browser-api/service.js";
import { ProfileService } from "../profiles/service.js";
import { ServerMetrics } from "../metrics/metrics.js";
import { AgentService } from "../agent/service.js";
import {
  bashRuntime,
  CodeAvailability,
  nodeRuntime,
  pythonRuntime,
  sandboxRoot,
} from "../sandbox/index.js";
import { SandboxDetector } from "../isolation/detect.js";
import { BrowserLauncher } from "../chromium/launcher.js";
import { EgressProxy } from "../network/egress-proxy.js";
import { egressPolicy, OwnEndpoints } from "../network/egress-policy.js";
import { SessionFactory } from "../sessions/factory.js";
import { SessionHistory } from "../sessions/history.js";
import { SessionLifetimes } from "../sessions/lifetimes.js";
import { SessionRegistry } from "../sessions/registry.js";
import { SessionIndex } from "../sessions/session-index.js";
import { createSessionResources, removeRunFolders } from "../sessions/resources.js";
import { SessionService } from "../sessions/service.js";
import { WarmPool } from "../sessions/warm-pool.js";
import { upgradeRefusal } from "../http/upgrade.js";
import type { Services } from "../services.js";
import { openStore } from "../store/open.js";
import { WriteRetry } from "../store/write-retry.js";
import { Billing } from "../teams/billing.js";
import { TeamService } from "../teams/service.js";
import { TeamUsage } from "../teams/usage.js";
import type { Logger } from "../log/logger.js";
import type { Lifecycle } from "./lifecycle.js";
import { Drain } from "./drain.js";
import { Membership } from "../cluster/membership.js";
import { detailsFromPeers } from "../cluster/peers.js";
import { NodeProof } from "../cluster/proof.js";
import { SessionRouter } from "../cluster/router.js";
import { hashToken } from "../auth/tokens.js";
import { checkMemory } from "../health/memory.js";
import type { Forwarding } from "../http/forward.js";
import { RequestsInFlight } from "../http/in-flight.js";
import { NODE_SESSIONS_PATH } from "../http/routes/cluster.js";
import type { Store } from "../store/repositories.js";
import type { SessionEnded } from "../sessions/lifetimes.js";
import { DownloadService } from "../downloads/service.js";

/** How often recordings past their retention are looked for. */
const RECORDING_SWEEP_MS = 60 * 60 * 1000;

/** What an embedding program (tests among them) may set beyond the configuration. */
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

/** What the HTTP layer calls into, and the addresses the egress policy keeps browsers from. */
export interface BuiltServices {
  services: Services;
  /** This server's own endpoints: its HTTP port joins them once it listens. */
  own: OwnEndpoints;
}

/**
 * Builds every service in dependency order, each registered with `life` as it is built so that
 * shutdown runs in reverse; recovers what a killed predecessor left in the store on the way.
 * Adding a service is one line here, where what it uses already exists.
 */
export async function buildServices(
  config: Config,
  opts: ServerOptions,
  log: Logger,
  life: Lifecycle,
): Promise<BuiltServices> {
  const store = life.add("store", await openStore(config), { close: (s) => s.close() });
  // What the server's runs left on disk goes with them, just before the store closes.
  life.onClose("run folders", () => removeRunFolders(config.dataDir));
  // Ends, settlements, refunds and releases the database could not take wait here until it can;
  // closing gives them one last try.
  const retry = life.add("write retry", new WriteRetry({ log }), { close: (r) => r.close() });
  // On Postgres every node serves the files any node saved (those it kept on disk before too);
  // a single SQLite node keeps them on disk.
  const disk = new DiskFileStore(config.dataDir);
  const files = store.dialect === "postgres" ? new DatabaseFileStore(store.files, disk) : disk;
  // Team limits mean something only where there are teams: with authentication on.
  const teamLimit = (n: number) => (config.useDbAuthentication ? n : Infinity);

  // Code runs in a sandbox when one works here; browsers are jailed whenever bubblewrap works,
  // even when user code is not (SANDBOX=none).
  const detector = new SandboxDetector({ bwrapPath: opts.bwrapPath });
  const sandbox = detector.detect(config.sandbox);
  const code = life.add(
    "code runtimes",
    CodeAvailability.create(sandbox, {
      root: sandboxRoot(config.dataDir),
      languages: [nodeRuntime, pythonRuntime(opts.pythonVenv), bashRuntime],
    }),
    { close: (c) => c.close() },
  );
  const sandboxMode = code.mode;
  if (sandboxMode === "none") {
    log.warn(
      {},
      "SANDBOX=none: user code runs WITHOUT isolation. Never expose this server to others.",
    );
  } else if (!sandboxMode) {
    log.error(
      typeof sandbox === "string" ? {} : sandbox.unavailable,
      "code execution is disabled: no usable sandbox",
    );
  }
  // Every browser, scrape or session, is held to one network policy by one proxy.
  const own = new OwnEndpoints();
  const egress = life.add(
    "egress proxy",
    EgressProxy.create({
      isBlocked: egressPolicy({
        allowPrivateNetwork: config.allowPrivateNetwork,
        own,
        isPrivate: opts.isPrivateAddress,
      }),
    }),
    { close: (e) => e.close() },
  );
  // Chromium is looked up lazily so that a machine without it still serves /health and clear 503s.
  let chromium: string | undefined;
  const chromiumPath = () => (chromium ??= findChromium(config.chromiumPath));
  const jailWorks = detector.bwrapWorks();
  const launcher = new BrowserLauncher({
    chromiumPath,
    jail: jailWorks
      ? {
          bwrapPath: detector.bwrapPath!,
          nodePath: fs.realpathSync(process.execPath),
          storageBytes: config.browserProfileBytes,
          marker: sandboxRoot(config.dataDir) + path.sep,
        }
      : undefined,
    profilesRoot: profilesRoot(config.dataDir),
    socketDir: path.join(sandboxRoot(config.dataDir), "cdp"),
    artifactsRoot: artifactsRoot(config.dataDir),
    egress,
    cdpBacklog: { maxBytes: config.cdpMaxBacklogBytes, stallMs: config.cdpStallMs },
  });
  if (!jailWorks) own.add(Number(new URL(await egress.tcpUrl()).port));
  const browser = life.add("scrape browser", new SharedBrowser(launcher, log), {
    close: (b) => b.close(),
  });

  // Recordings end after their sessions (drained after them: built before them).
  const recordingWork = path.join(config.dataDir, "recording-work");
  // Pages a killed predecessor was encoding cannot be finished: their frames are gone.
  fs.rmSync(recordingWork, { recursive: true, force: true });
  const recordings = life.add(
    "recordings",
    new RecordingService({
      rows: store.recordings,
      markRecorded: (id) => store.sessions.markRecorded(id),
      files,
      addSink: (id, sink) => liveview.addSink(id, sink),
      ffmpeg: findFfmpeg(),
      workDir: recordingWork,
      retentionMs: config.recordingRetentionMs,
      log,
    }),
    { drain: (r) => r.drain(), close: (r) => r.close() },
  );
  const recordingSweep = setInterval(
    () =>
      void recordings
        .sweep()
        .catch((err) => log.warn({ err }, "could not remove expired recordings")),
    RECORDING_SWEEP_MS,
  ).unref();
  life.onClose("recording sweep", () => clearInterval(recordingSweep));

  // Sessions: the shared record, this node's index of them, and what ends them.
  const registry = new SessionRegistry(store.sessions, config.nodeId, retry);
  const index = new SessionIndex({ store, registry });
  // What each session does, kept in the record so that it outlives the session.
  const history = new SessionHistory(registry, log);
  const lifetimes = life.add(
    "session lifetimes",
    new SessionLifetimes({
      registry,
      index,
      ttlMs: config.sessionTtlMs,
      log,
      retry,
      history,
      // Among nodes, what a lost node's sessions are billed up to is at most a heartbeat old.
      heartbeatMs: config.nodeUrl ? Math.min(15_000, config.nodeLostMs / 3) : undefined,
    }),
    {
      // Every session ends before anything they use closes; each end recorded and billed.
      drain: (l) => l.endAll(),
      close: (l) => l.close(),
    },
  );
  if (opts.onSessionEnded) lifetimes.onEnded(opts.onSessionEnded);
  const cdp = life.add(
    "CDP proxy",
    new CdpProxy({
      sessions: index,
      maxMessageBytes: config.cdpMaxMessageBytes,
      maxPerSession: config.cdpMaxConnectionsPerSession,
      maxPerTeam: teamLimit(config.teamMaxCdpConnections),
    }),
    { drain: (c) => c.close() },
  );
  const liveview = life.add(
    "live view",
    new LiveViewService({ maxViewersPerTeam: teamLimit(config.teamMaxLiveViewers) }),
    { close: (l) => l.close() },
  );
  index.onRemoved((s) => liveview.unregister(s.id));
  index.onRemoved((s) => void recordings.end(s.id));
  const pool = life.add(
    "warm pool",
    new WarmPool({
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
      roomForOne: (pooled) =>
        index.activeCount + pooled < config.maxBrowserSessions &&
        availableMemoryBytes() > config.minFreeMemoryBytes + 2 * SESSION_MEMORY_BUDGET_BYTES,
    }),
    { close: (p) => p.close() },
  );
  const metrics = new ServerMetrics({
    liveSessions: () => index.activeCount,
    warmPool: () => ({ ready: pool.readyCount, takes: pool.takes }),
    cdpConnections: () => cdp.connectionCount,
    liveViewViewers: () => liveview.stats().viewers,
  });
  lifetimes.onEnded((e) => metrics.sessionEnded(e.reason));

  // Credits: every session's end is billed, from the first (the leftovers ended below too).
  const billing = life.add(
    "billing",
    new Billing({
      store,
      enabled: config.useDbAuthentication,
      sessionTtlMs: config.sessionTtlMs,
      defaultMaxSessions: config.teamMaxSessions,
      log,
      onCharged: (kind, credits) => metrics.creditsCharged(kind, credits),
      nodeId: config.nodeId,
      retry,
    }),
    {
      close: async (b) => {
        b.close();
        await b.idle();
      },
    },
  );
  billing.listen(lifetimes);
  const teams = new TeamService({
    store,
    maxSessions: config.teamMaxSessions,
    cacheTtlMs: config.apiKeyCacheMs,
    // Through an outage, a known key keeps working for the calls of its live sessions.
    hasLiveSession: (teamId) => index.ofTeam(teamId).length > 0,
  });
  // Among nodes (NODE_URL): this one publishes itself, and declares silent ones lost. It starts
  // heartbeating once the server listens (startServer).
  const membership = config.nodeUrl
    ? life.add(
        "membership",
        new Membership({
          nodes: store.nodes,
          nodeId: config.nodeId,
          url: config.nodeUrl,
          capacity: config.maxBrowserSessions,
          lostMs: config.nodeLostMs,
          live: () => index.activeCount,
          log,
          onLost: (nodeId) => lifetimes.endLostNode(nodeId),
          onLostLeftovers: (lostBefore) => lifetimes.endLeftOfLostNodes(lostBefore),
          onSelfLost: () => lifetimes.endAllLost(),
        }),
        { close: (m) => m.close() },
      )
    : undefined;
  // Between nodes: the proof each gives the others, and where a session-naming request goes.
  const forwarding = membership && clusterForwarding(config, membership, index, registry, store);

  const profiles = new ProfileService(store, log);
  const factory = new SessionFactory({
    takeResources: () => pool.take(),
    code,
    chromiumPath,
    log,
  });
  const sessions = life.add(
    "sessions",
    new SessionService({
      // Like every team limit, only where there are teams: without authentication everyone is
      // one team, and the per-session bound alone applies.
      config: { ...config, teamMaxQueuedCalls: teamLimit(config.teamMaxQueuedCalls) },
      store,
      registry,
      index,
      factory,
      lifetimes,
      liveview,
      recordings,
      terms: billing,
      profiles,
      history,
      onCreated: (s, ms) => {
        metrics.sessionCreated(s.shape.kind, ms / 1000);
        downloads.watch(s);
      },
      detailsElsewhere:
        forwarding && detailsFromPeers(membership, forwarding.proof, NODE_SESSIONS_PATH),
    }),
    // Refuses new sessions and waits for those being made, before the lifetimes end them all.
    { drain: (s) => s.close() },
  );
  // What sessions' browsers download is kept, listed and, past the retention, removed.
  const downloads = life.add(
    "downloads",
    new DownloadService({ store, files, sessions, config, log }),
    { close: (d) => d.close() },
  );
  lifetimes.onEnded((e) => downloads.sessionEnded(e));
  downloads.startSweeping();
  await recoverLeftovers(log, lifetimes, billing);

  const requests = new RequestsInFlight();
  const drain = new Drain({
    refuseNew: () => sessions.refuseNew(),
    live: () => index.activeCount,
    requests: () => requests.count,
    announce: membership && (() => membership.drain()),
    drainMs: config.drainMs,
    close: () => life.close(),
    log,
  });
  membership?.onDrainRequested(() => void drain.start());

  const agent = new AgentService({
    provider: config.model,
    maxSteps: config.agentMaxSteps,
    snapshotTokens: config.agentSnapshotTokens,
  });
  // One way code and prompts run in a session, whichever endpoint found it.
  const runner = new SessionRunner({
    sessions,
    code,
    agent,
    billing,
    onRun: (l, o, s) => metrics.interactRan(l, o, s),
  });
  const interact = new InteractService({ sessions, runner });
  const scrapes = life.add(
    "scrapes",
    new ScrapeService({
      config,
      store,
      files,
      browser,
      credits: billing,
      profiles,
      onDone: (outcome, seconds) => metrics.scrapeDone(outcome, seconds),
    }),
    { close: (s) => s.close() },
  );
  pool.fill();
  const services: Services = {
    config,
    store,
    files,
    scrapes,
    liveview,
    recordings,
    cdp,
    sessions,
    index,
    lifetimes,
    interact,
    browsers: new BrowserSessionService({ sessions, runner, profiles, recordings }),
    downloads,
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
      draining: () => drain.active,
      pool: () => ({
        ready: pool.readyCount,
        launching: pool.launchingCount,
        target: pool.target,
        size: sandboxMode ? config.browserPoolSize : 0,
      }),
    },
    teams,
    billing,
    usage: new TeamUsage({
      store,
      metered: config.useDbAuthentication,
      defaultMaxSessions: config.teamMaxSessions,
      serverMaxSessions: config.maxBrowserSessions,
      scrapes: scrapes.slots,
    }),
    agent,
    membership,
    drain,
    requests,
    forwarding,
    sandbox: sandboxMode ?? "unavailable",
    languageUnavailable: (language) => code.unavailable(language),
  };
  return { services, own };
}

/**
 * No browser survives a restart, so neither does a session: what an earlier run of this node
 * left is ended (later calls on it answer 410) and billed; charges it left open are settled.
 */
async function recoverLeftovers(
  log: Logger,
  lifetimes: SessionLifetimes,
  billing: Billing,
): Promise<void> {
  const orphaned = await lifetimes.recoverLeftovers();
  // Sessions whose end was recorded but whose settling a killed run never finished.
  const settledLate = await billing.settleLeftovers();
  // Scrapes a killed run (or an outage) left charged with no outcome: refunded, once.
  const refundedLate = await billing.reconcileScrapes({ atStart: true });
  billing.startReconciling();
  if (settledLate > 0) log.info({ sessions: settledLate }, "settled sessions left unbilled");
  if (refundedLate > 0) {
    log.info({ scrapes: refundedLate }, "closed the charges of scrapes left without an outcome");
  }
  if (orphaned > 0) {
    log.info({ sessions: orphaned }, "sessions from before the restart are now destroyed");
  }
}

/**
 * A cluster node's forwarding: its proof under CLUSTER_SECRET, and the router that finds which
 * node holds a session (this index, else the shared record and the membership's addresses) and
 * where a new one goes (here while there is room, else the peer with the most).
 */
function clusterForwarding(
  config: Config,
  membership: Membership,
  index: SessionIndex,
  registry: SessionRegistry,
  store: Store,
): Forwarding {
  return {
    proof: new NodeProof(config.clusterSecret!, config.nodeId),
    router: new SessionRouter({
      index,
      registry,
      nodes: membership,
      roomHere: () =>
        !membership.isDraining &&
        index.activeCount < config.maxBrowserSessions &&
        checkMemory(config.minFreeMemoryBytes).ok,
      ownerOfToken: async (token, uses) => {
        const owner = await store.sessions.ownerOfToken(hashToken(token));
        return owner && uses.includes(owner.use) && owner.record.status !== "destroyed"
          ? owner.record.nodeId
          : undefined;
      },
    }),
  };
}

import type { Config } from "./config/config.js";
import type { FileStore } from "./files/file-store.js";
import type { LiveViewService } from "./liveview/service.js";
import type { RecordingService } from "./recording/service.js";
import type { CdpProxy } from "./cdp/proxy.js";
import type { ScrapeService } from "./scrape/service.js";
import type { Store } from "./store/repositories.js";
import type { InteractService } from "./interact/service.js";
import type { BrowserSessionService } from "./browser-api/service.js";
import type { AgentService } from "./agent/service.js";
import type { SessionLifetimes } from "./sessions/lifetimes.js";
import type { SessionService } from "./sessions/service.js";
import type { SessionIndex } from "./sessions/session-index.js";
import type { Language } from "./sandbox/index.js";
import type { Billing } from "./teams/billing.js";
import type { ServerMetrics } from "./metrics/metrics.js";
import type { HealthSources } from "./health/checks.js";
import type { TeamService } from "./teams/service.js";
import type { TeamUsage } from "./teams/usage.js";
import type { Forwarding } from "./http/forward.js";
import type { RequestsInFlight } from "./http/in-flight.js";
import type { Membership } from "./cluster/membership.js";
import type { Drain } from "./startup/drain.js";
import type { DownloadService } from "./downloads/service.js";

/** The long-lived services the HTTP layer calls into. Built once by startServer. */
export interface Services {
  config: Config;
  store: Store;
  files: FileStore;
  scrapes: ScrapeService;
  liveview: LiveViewService;
  /** Session recordings (recordSession) and their retention. */
  recordings: RecordingService;
  /** Clients' CDP connections to their sessions' browsers (cdpUrl). */
  cdp: CdpProxy;
  sessions: SessionService;
  /** Every live session of this node, under every key a request carries (ids and tokens). */
  index: SessionIndex;
  /** Ends sessions; its onEnded is the one SessionEnded event. */
  lifetimes: SessionLifetimes;
  interact: InteractService;
  /** What /health looks at besides the disk and the database. */
  health: HealthSources;
  /** Prometheus metrics (GET /metrics). */
  metrics: ServerMetrics;
  /** Files sessions' browsers downloaded: kept, listed, served, swept. */
  downloads: DownloadService;
  /** Standalone browser sessions (/v2/browser). */
  browsers: BrowserSessionService;
  /** Teams and their API keys. */
  teams: TeamService;
  /** Credits: what scrapes and sessions cost, taken when authentication is on. */
  billing: Billing;
  /** What a team runs now and has used (the usage routes). */
  usage: TeamUsage;
  /** Prompt mode's agent. */
  agent: AgentService;
  /** This node among the nodes sharing its database; undefined without NODE_URL. */
  membership: Membership | undefined;
  /** Going away without cutting sessions off: SIGTERM, or the admin command. */
  drain: Drain;
  /** How user code is isolated here, or why it cannot run. */
  sandbox: "bwrap" | "none" | "unavailable";
  /** Requests being answered now (a drain waits for them). */
  requests: RequestsInFlight;
  /** How this node proves itself to others and finds sessions they hold (with NODE_URL). */
  forwarding?: Forwarding;
  /** Why each language cannot run here, or undefined when it can. */
  languageUnavailable(language: Language): string | undefined;
}

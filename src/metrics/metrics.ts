import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** What the metrics read at scrape time rather than being told as it happens. */
export interface MetricSources {
  liveSessions(): number;
  warmPool(): { ready: number; takes: { hit: number; miss: number } };
  cdpConnections(): number;
  liveViewViewers(): number;
}

/** Seconds from a few milliseconds to a few minutes: scrapes, session starts, code runs. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * The server's Prometheus metrics, in a registry of its own (several servers can live in one
 * process, as in the tests). Events are counted where they happen; levels are read on scrape.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly sessionsCreated: Counter<"kind">;
  private readonly sessionsEnded: Counter<"reason">;
  private readonly sessionStart: Histogram<"kind">;
  private readonly interact: Histogram<"language" | "outcome">;
  private readonly scrapes: Histogram<"outcome">;
  private readonly errors: Counter<"code">;
  private readonly credits: Counter<"kind">;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "fcis_" });
    new Gauge({
      name: "fcis_sessions_live",
      help: "Browser sessions alive or being created on this server",
      registers,
      collect() {
        this.set(sources.liveSessions());
      },
    });
    new Gauge({
      name: "fcis_warm_pool_ready",
      help: "Browsers (with their code worker) started ahead of demand and waiting",
      registers,
      collect() {
        this.set(sources.warmPool().ready);
      },
    });
    new Counter({
      name: "fcis_warm_pool_takes_total",
      help: "New sessions by whether a warm browser was waiting (hit) or one had to start (miss)",
      labelNames: ["result"],
      registers,
      collect() {
        const { hit, miss } = sources.warmPool().takes;
        this.reset();
        this.inc({ result: "hit" }, hit);
        this.inc({ result: "miss" }, miss);
      },
    });
    new Gauge({
      name: "fcis_cdp_connections",
      help: "Client connections open on cdpUrl endpoints",
      registers,
      collect() {
        this.set(sources.cdpConnections());
      },
    });
    new Gauge({
      name: "fcis_liveview_viewers",
      help: "Live view pages connected",
      registers,
      collect() {
        this.set(sources.liveViewViewers());
      },
    });
    this.sessionsCreated = new Counter({
      name: "fcis_sessions_created_total",
      help: "Browser sessions created, by kind (interact or browser)",
      labelNames: ["kind"],
      registers,
    });
    this.sessionsEnded = new Counter({
      name: "fcis_sessions_ended_total",
      help: "Browser sessions ended, by reason (stopped, ttl, idle, browser_crashed, shutdown, server_restarted, node_lost)",
      labelNames: ["reason"],
      registers,
    });
    this.sessionStart = new Histogram({
      name: "fcis_session_create_seconds",
      help: "Time to create a session: browser, restore, code worker",
      labelNames: ["kind"],
      buckets: BUCKETS,
      registers,
    });
    this.interact = new Histogram({
      name: "fcis_interact_seconds",
      help: "Interact and browser execute calls, by language (prompt for the agent) and outcome",
      labelNames: ["language", "outcome"],
      buckets: BUCKETS,
      registers,
    });
    this.scrapes = new Histogram({
      name: "fcis_scrape_seconds",
      help: "Scrapes, by outcome (ok, or the error code)",
      labelNames: ["outcome"],
      buckets: BUCKETS,
      registers,
    });
    this.errors = new Counter({
      name: "fcis_errors_total",
      help: "Error answers by code (BROWSER_FAILED, SANDBOX_UNAVAILABLE, TOO_MANY_SESSIONS, ...)",
      labelNames: ["code"],
      registers,
    });
    this.credits = new Counter({
      name: "fcis_credits_charged_total",
      help: "Credits charged (authentication on), by what for (scrape or session)",
      labelNames: ["kind"],
      registers,
    });
  }

  sessionCreated(kind: string, seconds: number): void {
    this.sessionsCreated.inc({ kind });
    this.sessionStart.observe({ kind }, seconds);
  }

  sessionEnded(reason: string): void {
    this.sessionsEnded.inc({ reason });
  }

  interactRan(language: string, outcome: string, seconds: number): void {
    this.interact.observe({ language, outcome }, seconds);
  }

  scrapeDone(outcome: string, seconds: number): void {
    this.scrapes.observe({ outcome }, seconds);
  }

  errorAnswered(code: string): void {
    this.errors.inc({ code });
  }

  creditsCharged(kind: "scrape" | "session", credits: number): void {
    if (credits > 0) this.credits.inc({ kind }, credits);
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

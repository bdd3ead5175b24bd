import os from "node:os";
import path from "node:path";
import { z } from "zod";

/** Thrown when the environment holds a value we cannot start with; names the variable. */
export class ConfigError extends Error {}

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], {
    errorMap: () => ({ message: "must be true or false" }),
  })
  .transform((v) => v === "true" || v === "1" || v === "yes");

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const httpUrl = z
  .string()
  .url("must be an absolute URL such as http://localhost:8000/v1")
  .refine((u) => /^https?:\/\//.test(u), "must start with http:// or https://");

const MB = 1024 * 1024;
/**
 * Planning figure for one live session (browser + sandbox), used to derive the session cap:
 * measured about 106 MB with 16 sessions open on the headless shell (docs/performance.md), plus
 * room for pages heavier than a test page and for python. Full Chromium takes about 250 MB.
 */
export const SESSION_MEMORY_BUDGET_BYTES = 150 * MB;

/** Sessions that fit in three quarters of this machine's memory, at least one. */
export function defaultMaxSessions(totalMemBytes = os.totalmem()): number {
  return Math.max(1, Math.floor((totalMemBytes * 0.75) / SESSION_MEMORY_BUDGET_BYTES));
}

/** Scrapes running at once by default: two per CPU (most of a scrape is waiting), at least 4. */
export function defaultMaxConcurrentScrapes(cpus = os.availableParallelism()): number {
  return Math.max(4, 2 * cpus);
}

/**
 * Page transform workers by default: every core but the one the event loop needs, at least one,
 * at most 4 (each may take SCRAPE_TRANSFORM_MB).
 */
export function defaultTransformWorkers(cpus = os.availableParallelism()): number {
  return Math.max(1, Math.min(4, cpus - 1));
}

const envSchema = z.object({
  HOST: z.string().min(1).default("0.0.0.0"),
  PORT: int(0, 65535).default("3002"),
  DATA_DIR: z.string().min(1).default("./data"),
  CHROMIUM_PATH: z.string().min(1).optional(),
  USE_DB_AUTHENTICATION: bool.default("false"),
  DATABASE_URL: z
    .string()
    .regex(
      /^postgres(ql)?:\/\/\S+$/,
      "must be a Postgres URL such as postgres://user:password@host:5432/dbname",
    )
    .optional(),
  TEAM_MAX_SESSIONS: int(0, 100_000).default("5"),
  SESSION_MAX_QUEUED_CALLS: int(0, 1_000).default("8"),
  TEAM_MAX_QUEUED_CALLS: int(0, 100_000).default("16"),
  API_KEY_CACHE_SECONDS: int(0, 300).default("10"),
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  ALLOW_PRIVATE_NETWORK: bool.optional(),
  PUBLIC_URL: z
    .string()
    .url("must be an absolute URL such as https://browser.example.com")
    .refine((u) => /^https?:\/\//.test(u), "must start with http:// or https://")
    .optional(),
  MAX_BROWSER_SESSIONS: int(1, 100_000).optional(),
  MAX_CONCURRENT_SCRAPES: int(1, 10_000).optional(),
  TEAM_MAX_SCRAPES: int(1, 100_000).optional(),
  SCRAPE_MAX_PAGE_MB: int(1, 1024).default("16"),
  SCRAPE_TRANSFORM_WORKERS: int(1, 256).optional(),
  SCRAPE_TRANSFORM_MB: int(64, 65_536).default("1024"),
  SCRAPE_TRANSFORM_SECONDS: int(1, 3600).default("60"),
  SESSION_TTL_SECONDS: int(1, 86_400).default("600"),
  SESSION_IDLE_TTL_SECONDS: int(1, 86_400).default("300"),
  BROWSER_POOL_SIZE: int(0, 32).default("4"),
  RECORD_INTERACT_SESSIONS: bool.default("false"),
  RECORDING_RETENTION_DAYS: int(1, 3650).default("7"),
  TRUST_PROXY: bool.default("false"),
  BROWSER_PROFILE_MB: int(16, 65_536).default("256"),
  SESSION_DOWNLOADS_MB: int(1, 65_536).default("100"),
  CDP_MAX_MESSAGE_MB: int(1, 1024).default("32"),
  CDP_MAX_BACKLOG_MB: int(1, 1024).default("64"),
  CDP_STALL_SECONDS: int(1, 3600).default("30"),
  CDP_MAX_CONNECTIONS: int(1, 1000).default("8"),
  TEAM_MAX_CDP_CONNECTIONS: int(1, 100_000).default("32"),
  TEAM_MAX_LIVE_VIEWERS: int(1, 100_000).default("32"),
  MIN_FREE_DISK_MB: int(0, 1_048_576).default("256"),
  MIN_FREE_MEMORY_MB: int(0, 1_000_000_000).default("256"),
  NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 letters, digits, '.', '_' or '-'")
    .optional(),
  NODE_URL: httpUrl.optional(),
  CLUSTER_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  NODE_LOST_SECONDS: int(3, 3600).default("15"),
  DRAIN_SECONDS: int(0, 86_400).optional(),
  SANDBOX: z
    .enum(["auto", "bwrap", "none"], {
      errorMap: () => ({ message: "must be auto, bwrap or none" }),
    })
    .default("auto"),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: httpUrl.optional(),
  OLLAMA_BASE_URL: httpUrl.optional(),
  MODEL_NAME: z.string().min(1).max(200).optional(),
  AGENT_MAX_STEPS: int(1, 200).default("25"),
  AGENT_SNAPSHOT_TOKENS: int(500, 200_000).default("6000"),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
      errorMap: () => ({
        message: "must be one of fatal, error, warn, info, debug, trace, silent",
      }),
    })
    .default("info"),
  LOG_FORMAT: z
    .enum(["auto", "pretty", "json"], {
      errorMap: () => ({ message: "must be auto, pretty or json" }),
    })
    .default("auto"),
  CHECK_RESPONSES: bool.default("false"),
});

/**
 * What one setting needs of another: a node joins the cluster (NODE_URL) only with the shared
 * secret and the shared database. Messages never repeat a value (CLUSTER_SECRET is one).
 */
const settingsSchema = envSchema.superRefine((e, ctx) => {
  if (!e.NODE_URL) return;
  if (!e.CLUSTER_SECRET) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ["CLUSTER_SECRET"],
      message:
        "required with NODE_URL: the secret every node of the cluster shares (at least 32 characters)",
    });
  }
  if (!e.DATABASE_URL) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ["NODE_URL"],
      message: "needs a Postgres DATABASE_URL shared by every node (SQLite is for a single server)",
    });
  }
});

/** The chat-completions server prompt mode talks to. */
export interface ModelProvider {
  /** "ollama" when OLLAMA_BASE_URL chose it, else "openai" (OpenAI or a compatible server). */
  readonly kind: "openai" | "ollama";
  /** Base URL ending before /chat/completions, e.g. https://api.openai.com/v1. */
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  readonly model: string;
}

/** OpenAI's own endpoint and the model used there when MODEL_NAME is not set. */
const OPENAI_DEFAULT = { baseUrl: "https://api.openai.com/v1", model: "gpt-4o-mini" };

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly chromiumPath: string | undefined;
  /** Every /v2 request needs a team's API key; credits are charged and limits hold. */
  readonly useDbAuthentication: boolean;
  /** Postgres to keep everything in instead of the SQLite file in dataDir. */
  readonly databaseUrl: string | undefined;
  /** Concurrent sessions of a team that has no limit of its own (with authentication on). */
  readonly teamMaxSessions: number;
  /** Calls that may wait behind the running one in a session; past it a call answers 429. */
  readonly maxQueuedCallsPerSession: number;
  /** Calls a team may have waiting across all its sessions; past it a call answers 429. */
  readonly teamMaxQueuedCalls: number;
  /**
   * How long an API key the database confirmed is trusted without asking it again: what a
   * revocation by the admin command takes to reach this server. 0 asks every time.
   */
  readonly apiKeyCacheMs: number;
  /** When set, GET /metrics needs `Authorization: Bearer <it>`. */
  readonly metricsToken: string | undefined;
  readonly allowPrivateNetwork: boolean;
  readonly publicUrl: string | undefined;
  readonly maxBrowserSessions: number;
  /** Scrapes using the browser at once, shared fairly between teams; the rest wait in line. */
  readonly maxConcurrentScrapes: number;
  /** Scrapes one team may have running or waiting for a slot at once; past it 429. */
  readonly teamMaxScrapes: number;
  /** The most one scrape reads from its page (HTML, links, meta tags), in bytes. */
  readonly scrapeMaxPageBytes: number;
  /** Worker threads that turn pages into markdown and metadata, off the event loop. */
  readonly transformWorkers: number;
  /** Heap limit of each transform worker, in MB: a page needing more fails alone. */
  readonly transformMemoryMb: number;
  /** How long one page's conversion may take before its worker is terminated. */
  readonly transformTimeoutMs: number;
  readonly sessionTtlMs: number;
  readonly sessionIdleTtlMs: number;
  /** Record sessions bound to scrapes too (a browser session is recorded when it asks). */
  readonly recordInteractSessions: boolean;
  /**
   * RECORDING_RETENTION_DAYS: how long a recording is kept after its session started, and a
   * session's downloads after it ended, in ms.
   */
  readonly recordingRetentionMs: number;
  readonly browserPoolSize: number;
  readonly sandbox: "auto" | "bwrap" | "none";
  readonly logLevel: string;
  /** Readable lines for a person at a terminal, or one JSON object per line for a collector. */
  readonly logFormat: "pretty" | "json";
  /**
   * Check every JSON answer against its route's declared contract and answer 500 naming what
   * differs (tests and development: it costs a parse per answer).
   */
  readonly checkResponses: boolean;
  /** Trust X-Forwarded-* headers (only behind a reverse proxy that sets them). */
  readonly trustProxy: boolean;
  /** Size of each browser's writable storage (profile, caches, site data), in bytes. */
  readonly browserProfileBytes: number;
  /** What one session's browser may download in all, in bytes; past it a download fails. */
  readonly sessionDownloadsBytes: number;
  /** Largest CDP message a client may send through cdpUrl, in bytes. */
  readonly cdpMaxMessageBytes: number;
  /**
   * Bytes the server holds that one session's CDP clients (cdpUrl and its sandbox's) have not
   * read yet, all of them together; past it the clients holding them are cut off.
   */
  readonly cdpMaxBacklogBytes: number;
  /** How long a CDP client may hold unread bytes without reading any before it is cut off, in ms. */
  readonly cdpStallMs: number;
  /** cdpUrl connections one session accepts at once; its sandbox has as many of its own. */
  readonly cdpMaxConnectionsPerSession: number;
  /** cdpUrl connections one team may have open over all its sessions (authentication on). */
  readonly teamMaxCdpConnections: number;
  /** Live view viewers one team may have open over all its sessions (authentication on). */
  readonly teamMaxLiveViewers: number;
  /** Below this much free space in DATA_DIR the server reports itself unhealthy, in bytes. */
  readonly minFreeDiskBytes: number;
  /** Below this much available memory, new sessions are refused (503 LOW_MEMORY). */
  readonly minFreeMemoryBytes: number;
  /**
   * This server's name among the nodes sharing one database: sessions are recorded as its own,
   * and at start it ends only its own. Defaults to the host name.
   */
  readonly nodeId: string;
  /**
   * The base URL the other nodes reach this one at; set, the server joins the cluster of nodes
   * sharing its Postgres database. Undefined: it is alone.
   */
  readonly nodeUrl: string | undefined;
  /**
   * What node-to-node calls prove they know; set whenever nodeUrl is. Never logged, never in
   * an answer, never in a sandbox's or browser's environment.
   */
  readonly clusterSecret: string | undefined;
  /** A node whose heartbeat is older than this is lost; nodes heartbeat every third of it. */
  readonly nodeLostMs: number;
  /**
   * How long a draining node (SIGTERM, or the admin command) waits for its live sessions to end
   * before it ends them (reason shutdown) and closes; 0 closes at once.
   */
  readonly drainMs: number;
  /** The model behind `prompt`, or undefined when none is configured (prompts answer 503). */
  readonly model: ModelProvider | undefined;
  /** Most steps (tool calls) one prompt may take. */
  readonly agentMaxSteps: number;
  /** Size budget of the page snapshot the agent shows its model, in tokens (about 4 chars each). */
  readonly agentSnapshotTokens: number;
}

/** Parses the environment once into a frozen Config, or throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = settingsSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid environment:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const model = modelProvider(e);
  const maxConcurrentScrapes = e.MAX_CONCURRENT_SCRAPES ?? defaultMaxConcurrentScrapes();
  return Object.freeze({
    host: e.HOST,
    port: e.PORT,
    dataDir: path.resolve(e.DATA_DIR),
    chromiumPath: e.CHROMIUM_PATH,
    useDbAuthentication: e.USE_DB_AUTHENTICATION,
    databaseUrl: e.DATABASE_URL,
    teamMaxSessions: e.TEAM_MAX_SESSIONS,
    maxQueuedCallsPerSession: e.SESSION_MAX_QUEUED_CALLS,
    teamMaxQueuedCalls: e.TEAM_MAX_QUEUED_CALLS,
    apiKeyCacheMs: e.API_KEY_CACHE_SECONDS * 1000,
    metricsToken: e.METRICS_TOKEN,
    // Open by default only while nobody has to authenticate, as on a developer's laptop.
    allowPrivateNetwork: e.ALLOW_PRIVATE_NETWORK ?? !e.USE_DB_AUTHENTICATION,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ""),
    maxBrowserSessions: e.MAX_BROWSER_SESSIONS ?? defaultMaxSessions(),
    maxConcurrentScrapes,
    // The whole server's old line (a slot's worth running, four waiting, per slot), now a team's.
    teamMaxScrapes: e.TEAM_MAX_SCRAPES ?? 5 * maxConcurrentScrapes,
    scrapeMaxPageBytes: e.SCRAPE_MAX_PAGE_MB * MB,
    transformWorkers: e.SCRAPE_TRANSFORM_WORKERS ?? defaultTransformWorkers(),
    transformMemoryMb: e.SCRAPE_TRANSFORM_MB,
    transformTimeoutMs: e.SCRAPE_TRANSFORM_SECONDS * 1000,
    sessionTtlMs: e.SESSION_TTL_SECONDS * 1000,
    sessionIdleTtlMs: e.SESSION_IDLE_TTL_SECONDS * 1000,
    recordInteractSessions: e.RECORD_INTERACT_SESSIONS,
    recordingRetentionMs: e.RECORDING_RETENTION_DAYS * 86_400_000,
    browserPoolSize: e.BROWSER_POOL_SIZE,
    sandbox: e.SANDBOX,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT === "auto" ? (process.stdout.isTTY ? "pretty" : "json") : e.LOG_FORMAT,
    checkResponses: e.CHECK_RESPONSES,
    trustProxy: e.TRUST_PROXY,
    browserProfileBytes: e.BROWSER_PROFILE_MB * MB,
    sessionDownloadsBytes: e.SESSION_DOWNLOADS_MB * MB,
    cdpMaxMessageBytes: e.CDP_MAX_MESSAGE_MB * MB,
    cdpMaxBacklogBytes: e.CDP_MAX_BACKLOG_MB * MB,
    cdpStallMs: e.CDP_STALL_SECONDS * 1000,
    cdpMaxConnectionsPerSession: e.CDP_MAX_CONNECTIONS,
    teamMaxCdpConnections: e.TEAM_MAX_CDP_CONNECTIONS,
    teamMaxLiveViewers: e.TEAM_MAX_LIVE_VIEWERS,
    minFreeDiskBytes: e.MIN_FREE_DISK_MB * MB,
    minFreeMemoryBytes: e.MIN_FREE_MEMORY_MB * MB,
    nodeId:
      e.NODE_ID ??
      (os
        .hostname()
        .replace(/[^A-Za-z0-9._-]/g, "-")
        .slice(0, 64) ||
        "local"),
    nodeUrl: e.NODE_URL?.replace(/\/+$/, ""),
    clusterSecret: e.CLUSTER_SECRET,
    nodeLostMs: e.NODE_LOST_SECONDS * 1000,
    drainMs: (e.DRAIN_SECONDS ?? (e.NODE_URL ? 300 : 0)) * 1000,
    model,
    agentMaxSteps: e.AGENT_MAX_STEPS,
    agentSnapshotTokens: e.AGENT_SNAPSHOT_TOKENS,
  });
}

/**
 * Firecrawl self-hosted's variables: OLLAMA_BASE_URL picks Ollama; otherwise OPENAI_API_KEY or
 * OPENAI_BASE_URL pick OpenAI or a server speaking its chat-completions API (vLLM, llama.cpp,
 * LM Studio, LiteLLM). A server of one's own needs MODEL_NAME: its model names are its own.
 */
function modelProvider(e: z.output<typeof envSchema>): ModelProvider | undefined {
  const trim = (u: string) => u.replace(/\/+$/, "");
  if (e.OLLAMA_BASE_URL) {
    if (!e.MODEL_NAME) throw missingModel("OLLAMA_BASE_URL", "llama3.1:8b");
    // Ollama serves the OpenAI-compatible API under /v1.
    const base = trim(e.OLLAMA_BASE_URL);
    return {
      kind: "ollama",
      baseUrl: base.endsWith("/v1") ? base : `${base}/v1`,
      apiKey: e.OPENAI_API_KEY,
      model: e.MODEL_NAME,
    };
  }
  if (!e.OPENAI_API_KEY && !e.OPENAI_BASE_URL) return undefined;
  if (e.OPENAI_BASE_URL && !e.MODEL_NAME)
    throw missingModel("OPENAI_BASE_URL", "Qwen/Qwen2.5-7B-Instruct");
  return {
    kind: "openai",
    baseUrl: e.OPENAI_BASE_URL ? trim(e.OPENAI_BASE_URL) : OPENAI_DEFAULT.baseUrl,
    apiKey: e.OPENAI_API_KEY,
    model: e.MODEL_NAME ?? OPENAI_DEFAULT.model,
  };
}

function missingModel(variable: string, example: string): ConfigError {
  return new ConfigError(
    `Invalid environment:\n  MODEL_NAME: required when ${variable} is set (the name that server knows the model by, e.g. ${example})`,
  );
}

/** The environment variables the server reads (each documented in README's table). */
export type EnvVariable = keyof z.input<typeof envSchema>;

/** Every environment variable the server reads, by name. */
export const ENV_VARIABLES = Object.keys(envSchema.shape) as EnvVariable[];

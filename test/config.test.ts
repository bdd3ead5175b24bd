import { expect, test } from "vitest";
import fs from "node:fs";
import path from "node:path";
import {
  ConfigError,
  defaultMaxConcurrentScrapes,
  ENV_VARIABLES,
  loadConfig,
} from "../src/config/config.js";
import { testConfig } from "./helpers/config.js";

test("defaults: port 3002, private networks allowed while authentication is off", () => {
  const config = loadConfig({});
  expect(config.port).toBe(3002);
  expect(config.useDbAuthentication).toBe(false);
  expect(config.allowPrivateNetwork).toBe(true);
  expect(Object.isFrozen(config)).toBe(true);
  expect(config.nodeId).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
  expect(loadConfig({ NODE_ID: "node-a" }).nodeId).toBe("node-a");
});

test("settings are read from the given environment", () => {
  const config = loadConfig({
    PORT: "8080",
    ALLOW_PRIVATE_NETWORK: "false",
    PUBLIC_URL: "https://scrape.example.com/",
  });
  expect(config.port).toBe(8080);
  expect(config.allowPrivateNetwork).toBe(false);
  expect(config.publicUrl).toBe("https://scrape.example.com");
});

test("an invalid value stops loadConfig with a ConfigError naming the variable", () => {
  const cases: [Record<string, string>, string][] = [
    [{ PORT: "abc" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ ALLOW_PRIVATE_NETWORK: "maybe" }, "ALLOW_PRIVATE_NETWORK"],
    [{ PUBLIC_URL: "ftp://example.com" }, "PUBLIC_URL"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ USE_DB_AUTHENTICATION: "sure" }, "USE_DB_AUTHENTICATION"],
    [{ DATABASE_URL: "mysql://db/x" }, "DATABASE_URL"],
    [{ TEAM_MAX_SESSIONS: "-1" }, "TEAM_MAX_SESSIONS"],
    [{ NODE_ID: "two words" }, "NODE_ID"],
  ];
  for (const [env, variable] of cases) {
    let thrown: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      thrown = err;
    }
    expect(thrown, variable).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message, variable).toContain(variable);
  }
});

test("every bad variable is reported at once", () => {
  expect(() => loadConfig({ PORT: "x", LOG_LEVEL: "loud" })).toThrow(/PORT[\s\S]*LOG_LEVEL/);
});

test("MAX_CONCURRENT_SCRAPES: two per CPU and at least 4 by default, or as set", () => {
  expect(defaultMaxConcurrentScrapes(1)).toBe(4);
  expect(defaultMaxConcurrentScrapes(8)).toBe(16);
  expect(loadConfig({}).maxConcurrentScrapes).toBeGreaterThanOrEqual(4);
  expect(loadConfig({ MAX_CONCURRENT_SCRAPES: "3" }).maxConcurrentScrapes).toBe(3);
  expect(() => loadConfig({ MAX_CONCURRENT_SCRAPES: "0" })).toThrow(/MAX_CONCURRENT_SCRAPES/);
});

test("TEAM_MAX_SCRAPES: five per scrape slot by default, or as set", () => {
  expect(loadConfig({ MAX_CONCURRENT_SCRAPES: "3" }).teamMaxScrapes).toBe(15);
  expect(loadConfig({ TEAM_MAX_SCRAPES: "7" }).teamMaxScrapes).toBe(7);
  expect(() => loadConfig({ TEAM_MAX_SCRAPES: "0" })).toThrow(/TEAM_MAX_SCRAPES/);
});

test("SESSION_DOWNLOADS_MB and RECORDING_RETENTION_DAYS: 100 MB and 7 days by default, or as set", () => {
  expect(loadConfig({}).sessionDownloadsBytes).toBe(100 * 1024 * 1024);
  expect(loadConfig({ SESSION_DOWNLOADS_MB: "2" }).sessionDownloadsBytes).toBe(2 * 1024 * 1024);
  expect(loadConfig({}).recordingRetentionMs).toBe(7 * 86_400_000);
  expect(loadConfig({ RECORDING_RETENTION_DAYS: "1" }).recordingRetentionMs).toBe(86_400_000);
  expect(() => loadConfig({ SESSION_DOWNLOADS_MB: "0" })).toThrow(/SESSION_DOWNLOADS_MB/);
  expect(() => loadConfig({ RECORDING_RETENTION_DAYS: "0" })).toThrow(/RECORDING_RETENTION_DAYS/);
});

test("the model provider: Firecrawl self-hosted's variables", () => {
  expect(testConfig({}).model).toBeUndefined();
  expect(testConfig({ OPENAI_API_KEY: "sk-x" }).model).toEqual({
    kind: "openai",
    baseUrl: "https://api.openai.com/v1",
    apiKey: "sk-x",
    model: "gpt-4o-mini",
  });
  expect(testConfig({ OPENAI_BASE_URL: "http://vllm:8000/v1/", MODEL_NAME: "qwen" }).model).toEqual(
    { kind: "openai", baseUrl: "http://vllm:8000/v1", apiKey: undefined, model: "qwen" },
  );
  expect(
    testConfig({ OLLAMA_BASE_URL: "http://ollama:11434", MODEL_NAME: "llama3.1:8b" }).model,
  ).toMatchObject({ kind: "ollama", baseUrl: "http://ollama:11434/v1", model: "llama3.1:8b" });
  // A server of one's own has its own model names: starting without one would only fail later.
  expect(() => testConfig({ OPENAI_BASE_URL: "http://vllm:8000/v1" })).toThrow(/MODEL_NAME/);
  expect(() => testConfig({ OLLAMA_BASE_URL: "http://ollama:11434" })).toThrow(/MODEL_NAME/);
  expect(() => testConfig({ OPENAI_BASE_URL: "vllm:8000" })).toThrow(/OPENAI_BASE_URL/);
  expect(testConfig({}).agentMaxSteps).toBe(25);
  expect(() => testConfig({ AGENT_MAX_STEPS: "0" })).toThrow(/AGENT_MAX_STEPS/);
});

test("README's settings table names exactly the variables the server reads", () => {
  const readme = fs.readFileSync(path.join(import.meta.dirname, "..", "README.md"), "utf8");
  const documented = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]*)` +\|/gm)].map((m) => m[1]);
  expect([...documented].sort()).toEqual([...ENV_VARIABLES].sort());
});

test("NODE_URL joins the cluster only with CLUSTER_SECRET and a Postgres DATABASE_URL", () => {
  const secret = "s".repeat(32);
  const pgUrl = "postgres://u:p@db:5432/x";
  const alone = loadConfig({});
  expect(alone).toMatchObject({ nodeUrl: undefined, nodeLostMs: 15_000, drainMs: 0 });
  const node = loadConfig({
    NODE_URL: "http://10.0.0.5:3002/",
    CLUSTER_SECRET: secret,
    DATABASE_URL: pgUrl,
  });
  expect(node).toMatchObject({
    nodeUrl: "http://10.0.0.5:3002",
    clusterSecret: secret,
    drainMs: 300_000,
  });
  expect(loadConfig({ DRAIN_SECONDS: "20", NODE_LOST_SECONDS: "6" })).toMatchObject({
    drainMs: 20_000,
    nodeLostMs: 6_000,
  });
  const refusals: [Record<string, string>, RegExp][] = [
    [{ NODE_URL: "10.0.0.5:3002", CLUSTER_SECRET: secret, DATABASE_URL: pgUrl }, /NODE_URL/],
    [{ NODE_URL: "http://a:1", DATABASE_URL: pgUrl }, /CLUSTER_SECRET: required with NODE_URL/],
    [{ NODE_URL: "http://a:1", CLUSTER_SECRET: secret }, /NODE_URL: needs a Postgres/],
    [{ NODE_LOST_SECONDS: "1" }, /NODE_LOST_SECONDS/],
  ];
  for (const [env, message] of refusals) expect(() => loadConfig(env)).toThrow(message);
  // A secret too short is refused without being repeated in the message.
  const short = "not-long-enough-secret";
  let thrown: unknown;
  try {
    loadConfig({ NODE_URL: "http://a:1", CLUSTER_SECRET: short, DATABASE_URL: pgUrl });
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  expect((thrown as Error).message).toContain("CLUSTER_SECRET: must be at least 32 characters");
  expect((thrown as Error).message).not.toContain(short);
});

test("recordings: scrape-bound sessions unrecorded and a week's retention by default, or as set", () => {
  const defaults = loadConfig({});
  expect(defaults.recordInteractSessions).toBe(false);
  expect(defaults.recordingRetentionMs).toBe(7 * 86_400_000);
  const set = loadConfig({ RECORD_INTERACT_SESSIONS: "true", RECORDING_RETENTION_DAYS: "30" });
  expect(set.recordInteractSessions).toBe(true);
  expect(set.recordingRetentionMs).toBe(30 * 86_400_000);
  expect(() => loadConfig({ RECORDING_RETENTION_DAYS: "0" })).toThrow(/RECORDING_RETENTION_DAYS/);
  expect(() => loadConfig({ RECORD_INTERACT_SESSIONS: "sometimes" })).toThrow(
    /RECORD_INTERACT_SESSIONS/,
  );
});

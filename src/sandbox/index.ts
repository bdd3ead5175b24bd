/** The sandbox's public surface: what the sessions module wires together. */
export {
  SandboxDetector,
  sandboxUnavailableMessage,
  type SandboxDetection,
  type SandboxMode,
  type SandboxUnavailable,
} from "./detect.js";
export {
  spawnWorker,
  DEFAULT_MAX_PROCESSES,
  DEFAULT_MEMORY_LIMIT_MB,
  DEFAULT_OUTPUT_LIMIT,
  MAX_TIMEOUT_MS,
  MIN_TIMEOUT_MS,
  type WorkerOptions,
} from "./worker.js";
export { LanguageUnavailableError, SessionSandbox } from "./session-sandbox.js";
export type { ExecResult, Language, SandboxWorker } from "./types.js";
export { sandboxRoot } from "./root.js";
export { Runtimes, type ReadyRuntime } from "./runtimes/staging.js";
export { nodeRuntime } from "./runtimes/node.js";
export type { LanguageRuntime } from "./runtimes/runtime.js";

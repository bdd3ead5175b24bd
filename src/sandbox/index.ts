/** The sandbox's public surface: what the sessions module wires together. */
export {
  SandboxDetector,
  sandboxUnavailableMessage,
  type SandboxDetection,
  type SandboxMode,
  type SandboxUnavailable,
} from "./detect.js";
export {
  spawnNodeWorker,
  DEFAULT_MAX_PROCESSES,
  DEFAULT_MEMORY_LIMIT_MB,
  DEFAULT_OUTPUT_LIMIT,
  MAX_TIMEOUT_MS,
  MIN_TIMEOUT_MS,
  type NodeWorkerOptions,
} from "./node-worker.js";
export { prepareCode, type PreparedCode } from "./transform.js";
export type { ExecResult, SandboxWorker } from "./types.js";
export { sandboxRoot, stageRuntime } from "./runtime.js";
export { projectRuntime } from "./command.js";

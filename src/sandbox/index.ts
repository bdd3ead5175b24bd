/** The sandbox's public surface: what the server and the sessions module wire together. */
export { SessionSandbox } from "./session-sandbox.js";
export { CodeAvailability, CodeUnavailableError } from "./availability.js";
export type { ExecResult, Language, SandboxWorker } from "./types.js";
export { sandboxRoot } from "./root.js";
export { Runtimes } from "./runtimes/staging.js";
export { bashRuntime } from "./runtimes/bash.js";
export { nodeRuntime } from "./runtimes/node.js";
export { pythonRuntime } from "./runtimes/python.js";
export type { LanguageRuntime } from "./runtimes/runtime.js";

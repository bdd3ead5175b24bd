import type { Language } from "../types.js";

/** What a runner is told to run: the request the runner protocol's `exec` op carries. */
export type PreparedRun =
  { ok: true; request: Record<string, unknown> } | { ok: false; error: string };

/** Where the runner finds what it needs, as seen by the runner (inside the sandbox or not). */
export interface RunnerContext {
  /** The session browser's CDP endpoint: a unix socket serving one CDP connection per client. */
  cdpSocket: string;
  /** Each of the runtime's files(), by name. */
  files: Record<string, string>;
  memoryLimitMb: number;
  outputLimit: number;
  /** Inside a pid namespace: the runner may kill every other process after a run. */
  reap: boolean;
}

/**
 * One language's description: what to stage into the sandbox, the command line of its runner,
 * how code becomes a request, and how to tell it can run here. The runner speaks the same JSON
 * lines protocol on fd 3 whatever the language: `ready`, then `attach` and `exec` requests.
 */
export interface LanguageRuntime {
  readonly language: Language;
  /** Host files and folders the runner needs, by name; staged once, read-only inside. */
  files(): Record<string, string>;
  /** Where each of files() appears inside the sandbox. */
  readonly mounts: Record<string, string>;
  /** Host executables the command runs (bound in when outside /usr). */
  binaries(): string[];
  /** The runner's command line, after the sandbox and its limits. */
  argv(ctx: RunnerContext): string[];
  /** Turns user code into an `exec` request, or the user's error (a syntax error). */
  prepare(code: string): PreparedRun;
  /** Why this language cannot run on this machine, or undefined when it can. */
  unavailable(): string | undefined;
}

import type { Language } from "../types.js";

/** What a runner is told to run: the request the runner protocol's `exec` op carries. */
export type PreparedRun =
  { ok: true; request: Record<string, unknown> } | { ok: false; error: string };

/**
 * The session's unix sockets a runner may be given, each served by the server:
 * - `cdp`: the session's browser, one CDP connection per client;
 * - `playwright`: Playwright's protocol, served by the node runner's Playwright (python's way in);
 * - `playwright-host`: where the node runner dials back to serve those connections.
 */
export type SessionSocket = "cdp" | "playwright" | "playwright-host";

/** Where the runner finds what it needs, as seen by the runner (inside the sandbox or not). */
export interface RunnerContext {
  /** Each of the runtime's sockets(), by name. */
  sockets: Partial<Record<SessionSocket, string>>;
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
  /** The session sockets the runner uses; only these are bound into its sandbox. */
  readonly sockets: SessionSocket[];
  /** Leaves a staged file out (a path relative to one of files()); default: stage everything. */
  skipWhenStaging?(relativePath: string): boolean;
  /**
   * A command the server runs once, in the background, when the staged runtime is first used:
   * work that makes later runners start faster (node: compiling Playwright ahead). It writes only
   * into the staged files.
   */
  warmUp?(staged: Record<string, string>): string[];
  /** Host executables the command runs (bound in when outside /usr). */
  binaries(): string[];
  /** The runner's command line, after the sandbox and its limits. */
  argv(ctx: RunnerContext): string[];
  /** Turns user code into an `exec` request, or the user's error (a syntax error). */
  prepare(code: string): PreparedRun;
  /** Why this language cannot run on this machine, or undefined when it can. */
  unavailable(): string | undefined;
}

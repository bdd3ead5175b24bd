/** The languages interact accepts; each has a runtime in runtimes/ once it is served. */
export type Language = "node" | "python" | "bash";

/** What one code run produced, as the interact response reports it. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Last expression value (or top-level `return`): strings as-is, other values JSON-encoded. */
  result: string;
  exitCode: number;
  /** True when the run was stopped because its timeout ran out. */
  killed: boolean;
  /** Message of the uncaught error, only when the run failed. */
  error?: string;
  /** True when stdout or stderr went past the output bound and was cut. */
  truncated?: boolean;
}

/** A persistent worker for one language in one session's sandbox, next to its browser. */
export interface SandboxWorker {
  readonly language: Language;
  /** Runs code with a deadline. Never rejects for failures in the user's code. */
  exec(code: string, timeoutMs: number): Promise<ExecResult>;
  /**
   * Connects to the browser, or waits for the connection the runner opens by itself once it is
   * loaded. Not user code.
   */
  connect(): Promise<void>;
  /**
   * Connects to the browser and waits (briefly) for its current page to finish loading: what
   * a worker started before a restore needs before the user's first call. Not user code.
   */
  attach(): Promise<void>;
  readonly alive: boolean;
  /** Resolves when the worker process is gone. */
  readonly exited: Promise<void>;
  /** Kills every process of the worker. Safe to call twice. */
  kill(): Promise<void>;
}

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

/** A persistent per-session worker that runs user code next to the session's browser. */
export interface SandboxWorker {
  /** Runs code with a deadline. Never rejects for failures in the user's code. */
  exec(code: string, timeoutMs: number): Promise<ExecResult>;
  /** Connects to the browser ahead of the first exec, so the first call does not pay for it. */
  warm(): Promise<void>;
  readonly alive: boolean;
  /** Resolves when the worker process is gone. */
  readonly exited: Promise<void>;
  /** Kills every process of the worker. Safe to call twice. */
  kill(): Promise<void>;
}

import { AppError } from "../errors/app-error.js";
import {
  sandboxUnavailableMessage,
  type SandboxDetection,
  type SandboxMode,
  type SandboxUnavailable,
} from "../isolation/detect.js";
import type { LanguageRuntime } from "./runtimes/runtime.js";
import { Runtimes, type ReadyRuntime } from "./runtimes/staging.js";
import type { Language } from "./types.js";

/** Code that cannot run here (no working sandbox, a language not set up): a 503 for the caller. */
export class CodeUnavailableError extends AppError {
  constructor(reason: string) {
    super("SANDBOX_UNAVAILABLE", reason);
  }
}

export interface CodeAvailabilityOptions {
  /** Where staged runtimes go when a sandbox works (sandboxRoot(dataDir)). */
  root: string;
  /** Every language this server serves. */
  languages: LanguageRuntime[];
}

/**
 * Whether user code can run here, and in which languages: decided once at start from the sandbox
 * detector's answer and the languages' runtimes. Everything that would run code asks it (a call
 * before any session is made, the session factory, a session's sandbox before it starts a
 * worker), and /health reports its answers, so all of them say the same thing.
 */
export class CodeAvailability {
  private constructor(
    private readonly detection: SandboxDetection,
    private readonly runtimes: Runtimes,
  ) {}

  /** Stages the runtimes in `root` when a sandbox works; otherwise uses them where they are. */
  static create(detection: SandboxDetection, opts: CodeAvailabilityOptions): CodeAvailability {
    const runtimes =
      typeof detection === "string"
        ? Runtimes.stage(opts.root, opts.languages)
        : Runtimes.inPlace(opts.languages);
    return new CodeAvailability(detection, runtimes);
  }

  /** How user code is isolated here, or undefined when no sandbox works. */
  get mode(): SandboxMode | undefined {
    return typeof this.detection === "string" ? this.detection : undefined;
  }

  /** Why no sandbox works here, with the probe's own output: for the server log only. */
  get sandboxProblem(): SandboxUnavailable | undefined {
    return typeof this.detection === "string" ? undefined : this.detection.unavailable;
  }

  /** Why no code at all can run here, in general terms a caller may read; undefined when it can. */
  sandboxUnavailable(): string | undefined {
    const problem = this.sandboxProblem;
    return problem && sandboxUnavailableMessage(problem);
  }

  /** Why code in `language` cannot run here, as a caller may read it; undefined when it can. */
  unavailable(language: Language): string | undefined {
    return this.sandboxUnavailable() ?? this.runtimes.unavailable(language);
  }

  /** Throws the 503 when no code at all can run here. */
  assertSandbox(): void {
    const reason = this.sandboxUnavailable();
    if (reason !== undefined) throw new CodeUnavailableError(reason);
  }

  /** Throws the 503 when code in `language` cannot run here. */
  assertRunnable(language: Language): void {
    const reason = this.unavailable(language);
    if (reason !== undefined) throw new CodeUnavailableError(reason);
  }

  /** The language's runtime, ready to start a worker from; throws the 503 when it cannot run. */
  runtime(language: Language): ReadyRuntime {
    this.assertRunnable(language);
    return this.runtimes.get(language)!;
  }

  /** Stops runtime warm-ups still running. */
  close(): Promise<void> {
    return this.runtimes.close();
  }
}

import { AgentProgress, ModelFailedError, type AgentService } from "../agent/service.js";
import { AppError } from "../errors/app-error.js";
import type { CodeAvailability, ExecResult } from "../sandbox/index.js";
import { sessionUrls } from "../urls/public-urls.js";
import type { AcquiredSession, SessionService, StopResult } from "../sessions/service.js";
import { CallAbandonedError } from "../sessions/call-queue.js";
import type { Billing } from "../teams/billing.js";
import type { InteractRequest, InteractResponse, StopResponse } from "./request.js";

/** What a run asks for: code in a language, or a prompt, and its timeout. */
export type RunRequest = Pick<InteractRequest, "code" | "prompt" | "language" | "timeout">;

export interface SessionRunnerOptions {
  sessions: Pick<SessionService, "markUsedPrompt">;
  /** Whether code in a language can run here (installed, with a sandbox). */
  code: Pick<CodeAvailability, "assertRunnable">;
  agent: AgentService;
  billing: Pick<Billing, "billed">;
  /** Told of every run: its language ("prompt" for the agent), outcome and seconds. */
  onRun?: (language: string, outcome: string, seconds: number) => void;
}

/**
 * Runs code or a prompt in a live session, and answers a stop: what every call on a session does
 * once it has found it, whether the session belongs to a scrape (interact) or stands alone
 * (/v2/browser).
 */
export class SessionRunner {
  constructor(private readonly opts: SessionRunnerOptions) {}

  /**
   * Refuses (503) what cannot run here, before any session is looked up or made, so asking
   * for it never starts a browser.
   */
  assertRunnable(req: Pick<InteractRequest, "prompt" | "language">): void {
    if (req.prompt !== undefined) {
      const why = this.opts.agent.unavailable();
      if (why) throw new AppError("MODEL_NOT_CONFIGURED", why);
    } else {
      this.opts.code.assertRunnable(req.language);
    }
  }

  /**
   * Runs the code or prompt in a live session, after the calls before it; the interact
   * response. Its timeout counts from now; if `signal` aborts before its turn, it never runs.
   */
  async run(
    acquired: AcquiredSession,
    req: RunRequest,
    baseUrl: string,
    signal?: AbortSignal,
  ): Promise<InteractResponse> {
    const began = Date.now();
    const language = req.prompt !== undefined ? "prompt" : req.language;
    let outcome = "error";
    try {
      const res = await this.runIn(acquired, req, baseUrl, signal);
      outcome = res.success ? "ok" : res.killed ? "timeout" : "failed";
      return res;
    } finally {
      this.opts.onRun?.(language, outcome, (Date.now() - began) / 1000);
    }
  }

  /**
   * The answer to stopping a session, once it is stopped: with what it was billed (or, without
   * authentication, would have been).
   */
  async stopped({ sessionDurationMs, ended, recorded }: StopResult): Promise<StopResponse> {
    // While the database cannot take the end, what will be billed once it does.
    const creditsBilled = ended ? await this.opts.billing.billed(ended, recorded) : 0;
    return {
      success: true,
      status: ended ? statusWord(ended.reason) : "stopped",
      ...(sessionDurationMs === undefined
        ? {}
        : { sessionDurationMs: Math.round(sessionDurationMs) }),
      creditsBilled,
    };
  }

  private async runIn(
    acquired: AcquiredSession,
    req: RunRequest,
    baseUrl: string,
    signal: AbortSignal | undefined,
  ): Promise<InteractResponse> {
    const { session } = acquired;
    const urls = urlsOf(acquired, baseUrl);
    const timeoutMs = req.timeout * 1000;
    const run =
      req.prompt !== undefined
        ? await this.prompt(acquired, req.prompt, timeoutMs, signal)
        : await session.exec(req.language, req.code ?? "", timeoutMs, signal);
    const success = run.exitCode === 0 && !run.killed;
    return {
      success,
      sessionId: session.id,
      ...urls,
      ...("output" in run ? { output: run.output as string } : {}),
      stdout: run.stdout,
      result: run.result,
      stderr: run.stderr,
      exitCode: run.exitCode,
      killed: run.killed,
      ...(success
        ? {}
        : { error: run.error ?? (run.killed ? "Execution timed out." : "Execution failed.") }),
      ...(run.truncated ? { truncated: true } : {}),
    };
  }

  private async prompt(
    { session }: AcquiredSession,
    prompt: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<ExecResult & { output: string }> {
    // A client already gone does not move the session to the prompt rate.
    if (signal?.aborted) throw new CallAbandonedError();
    await this.opts.sessions.markUsedPrompt(session);
    const progress = new AgentProgress();
    try {
      return await session.task(
        (ctx) => this.opts.agent.run(session.resources.context, prompt, ctx, progress),
        timeoutMs,
        () => progress.partial(true),
        signal,
      );
    } catch (err) {
      if (err instanceof ModelFailedError) {
        throw new AppError("MODEL_FAILED", `The AI model provider failed: ${err.message}`);
      }
      throw err;
    }
  }
}

/** Where a live session is reached: URLs whose tokens are its only key and die with it. */
export function urlsOf({ session, viewToken, controlToken }: AcquiredSession, baseUrl: string) {
  return sessionUrls(baseUrl, { cdpToken: session.cdpToken, viewToken, controlToken });
}

/** Ends that were not asked for: the browser, or the node holding it, died. */
const FAILED: ReadonlySet<string> = new Set(["browser_crashed", "node_lost"]);

/** Firecrawl's word for an ended session: "failed" when it died, else "stopped". */
export function statusWord(reason: string): "stopped" | "failed" {
  return FAILED.has(reason) ? "failed" : "stopped";
}

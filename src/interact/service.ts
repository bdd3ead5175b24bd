import { AgentProgress, ModelFailedError, type AgentService } from "../agent/service.js";
import { AppError } from "../errors/app-error.js";
import type { CodeAvailability, ExecResult } from "../sandbox/index.js";
import { sessionUrls } from "../urls/public-urls.js";
import type { AcquiredSession, SessionService } from "../sessions/service.js";
import { CallAbandonedError } from "../sessions/call-queue.js";
import type { Billing } from "../teams/billing.js";
import type { InteractRequest, InteractResponse, StopResponse } from "./request.js";

/** Runs one interact call: gets the scrape's live session, then runs the code or prompt in it. */
export class InteractService {
  constructor(
    private readonly sessions: SessionService,
    /** Whether code in a language can run here (installed, with a sandbox). */
    private readonly code: Pick<CodeAvailability, "assertRunnable">,
    private readonly agent: AgentService,
    private readonly billing: Billing,
    /** Told of every run: its language ("prompt" for the agent), outcome and seconds. */
    private readonly onRun?: (language: string, outcome: string, seconds: number) => void,
  ) {}

  /** `signal` aborts when the client has gone: a call still waiting for its turn never runs. */
  async interact(
    scrapeId: string,
    teamId: string,
    req: InteractRequest,
    baseUrl: string,
    signal?: AbortSignal,
  ): Promise<InteractResponse> {
    this.assertRunnable(req);
    const acquired = await this.sessions.acquire(scrapeId, teamId, {
      prompt: req.prompt !== undefined,
    });
    return this.run(acquired, req, baseUrl, signal);
  }

  /**
   * Refuses (503) what cannot run here, before any session is looked up or made, so asking
   * for it never starts a browser.
   */
  assertRunnable(req: Pick<InteractRequest, "prompt" | "language">): void {
    if (req.prompt !== undefined) {
      const why = this.agent.unavailable();
      if (why) throw new AppError("MODEL_NOT_CONFIGURED", why);
    } else {
      this.code.assertRunnable(req.language);
    }
  }

  /**
   * Runs the code or prompt in a live session, after the calls before it; the interact
   * response. Its timeout counts from now; if `signal` aborts before its turn, it never runs.
   */
  async run(
    acquired: AcquiredSession,
    req: Pick<InteractRequest, "code" | "prompt" | "language" | "timeout">,
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
      this.onRun?.(language, outcome, (Date.now() - began) / 1000);
    }
  }

  private async runIn(
    acquired: AcquiredSession,
    req: Pick<InteractRequest, "code" | "prompt" | "language" | "timeout">,
    baseUrl: string,
    signal: AbortSignal | undefined,
  ): Promise<InteractResponse> {
    const { session, viewToken, controlToken } = acquired;
    const urls = sessionUrls(baseUrl, { cdpToken: session.cdpToken, viewToken, controlToken });
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
    await this.sessions.markUsedPrompt(session);
    const progress = new AgentProgress();
    try {
      return await session.task(
        (ctx) => this.agent.run(session.resources.context, prompt, ctx, progress),
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

  /**
   * Stops the scrape's session; the DELETE response body, with what the session was billed
   * (or, without authentication, would have been).
   */
  async stop(scrapeId: string, teamId: string): Promise<StopResponse> {
    const { sessionDurationMs, ended, recorded } = await this.sessions.destroy(scrapeId, teamId);
    // While the database cannot take the end, what will be billed once it does.
    const creditsBilled = ended ? await this.billing.billed(ended, recorded) : 0;
    return { success: true, status: "destroyed", sessionDurationMs, creditsBilled };
  }
}

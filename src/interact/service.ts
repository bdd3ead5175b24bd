import { AppError } from "../errors/app-error.js";
import { LanguageUnavailableError, type Language } from "../sandbox/index.js";
import { sessionUrls } from "../urls/public-urls.js";
import type { SessionService } from "../sessions/service.js";
import type { InteractRequest, InteractResponse } from "./request.js";

/** Runs one interact call: gets the scrape's live session, then runs the code in it. */
export class InteractService {
  constructor(
    private readonly sessions: SessionService,
    /** Why a language cannot run here (not installed, no sandbox), or undefined when it can. */
    private readonly languageUnavailable: (language: Language) => string | undefined,
  ) {}

  async interact(
    scrapeId: string,
    teamId: string,
    req: InteractRequest,
    baseUrl: string,
  ): Promise<InteractResponse> {
    // Refused before any session exists, so asking for these never starts a browser.
    if (req.prompt !== undefined) {
      throw new AppError("NOT_AVAILABLE_YET", "Prompt mode is not available on this server yet.");
    }
    const unavailable = this.languageUnavailable(req.language);
    if (unavailable) throw new AppError("SANDBOX_UNAVAILABLE", unavailable);
    const { session, viewToken, controlToken } = await this.sessions.acquire(scrapeId, teamId);
    const urls = sessionUrls(baseUrl, { cdpToken: session.cdpToken, viewToken, controlToken });
    const run = await session
      .exec(req.language, req.code ?? "", req.timeout * 1000)
      .catch((err) => {
        if (err instanceof LanguageUnavailableError) {
          throw new AppError("SANDBOX_UNAVAILABLE", err.message);
        }
        throw err;
      });
    const success = run.exitCode === 0 && !run.killed;
    return {
      success,
      sessionId: session.id,
      ...urls,
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

  /** Stops the scrape's session; the DELETE response body. */
  async stop(scrapeId: string, teamId: string) {
    const { sessionDurationMs } = await this.sessions.destroy(scrapeId, teamId);
    return { success: true, status: "destroyed", sessionDurationMs, creditsBilled: 0 };
  }
}

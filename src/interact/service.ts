import type { SessionService } from "../sessions/service.js";
import type { InteractRequest, InteractResponse, StopResponse } from "./request.js";
import type { SessionRunner } from "./runner.js";

export interface InteractServiceOptions {
  sessions: Pick<SessionService, "acquire" | "destroy">;
  /** Runs the call in the session once found, and answers its stop. */
  runner: SessionRunner;
}

/** Runs one interact call: gets the scrape's live session, then runs the code or prompt in it. */
export class InteractService {
  constructor(private readonly opts: InteractServiceOptions) {}

  /**
   * `signal` aborts when the client has gone: a call still waiting for its turn never runs.
   * `apiKeyId` is the caller's key: a session this call opens is that key's spending.
   */
  async interact(
    scrapeId: string,
    teamId: string,
    req: InteractRequest,
    baseUrl: string,
    signal?: AbortSignal,
    apiKeyId: string | null = null,
  ): Promise<InteractResponse> {
    this.opts.runner.assertRunnable(req);
    const acquired = await this.opts.sessions.acquire(scrapeId, teamId, {
      prompt: req.prompt !== undefined,
      apiKeyId,
      ttlMs: req.ttl === undefined ? undefined : req.ttl * 1000,
      idleTtlMs: req.activityTtl === undefined ? undefined : req.activityTtl * 1000,
    });
    return this.opts.runner.run(acquired, req, baseUrl, signal);
  }

  /**
   * Stops the scrape's session; the DELETE response body, with what the session was billed
   * (or, without authentication, would have been).
   */
  async stop(scrapeId: string, teamId: string): Promise<StopResponse> {
    return this.opts.runner.stopped(await this.opts.sessions.destroy(scrapeId, teamId));
  }
}

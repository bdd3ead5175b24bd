import type { LanguageModel } from "ai";
import type { BrowserContext } from "playwright-core";
import type { ModelProvider } from "../config/config.js";
import { AgentProgress, runAgent, type AgentResult } from "./loop.js";
import { chatModel, NO_PROVIDER } from "./model.js";

export { AgentProgress, ModelFailedError, type AgentResult } from "./loop.js";

export interface AgentServiceOptions {
  provider: ModelProvider | undefined;
  maxSteps: number;
  snapshotTokens: number;
}

/** Prompt mode: an AI agent that works a session's live page with the configured model. */
export class AgentService {
  private readonly model: LanguageModel | undefined;

  constructor(private readonly opts: AgentServiceOptions) {
    this.model = opts.provider ? chatModel(opts.provider) : undefined;
  }

  /** Why prompts cannot run here (no provider), or undefined when they can. */
  unavailable(): string | undefined {
    return this.model ? undefined : NO_PROVIDER;
  }

  /** Works the context's current tab until the task is answered, `signal` aborts, or steps run out. */
  run(
    context: BrowserContext,
    prompt: string,
    run: { signal: AbortSignal; deadline: number },
    progress: AgentProgress,
  ): Promise<AgentResult> {
    if (!this.model) throw new Error(NO_PROVIDER);
    return runAgent(
      context,
      prompt,
      {
        model: this.model,
        maxSteps: this.opts.maxSteps,
        snapshotTokens: this.opts.snapshotTokens,
        signal: run.signal,
        deadline: run.deadline,
      },
      progress,
    );
  }
}

import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { APICallError, RetryError, type LanguageModel } from "ai";
import type { ModelProvider } from "../config/config.js";

/** The chat model a provider names, spoken to over its /chat/completions API. */
export function chatModel(provider: ModelProvider): LanguageModel {
  const openai = createOpenAICompatible({
    name: provider.kind,
    baseURL: provider.baseUrl,
    ...(provider.apiKey ? { apiKey: provider.apiKey } : {}),
  });
  return openai.chatModel(provider.model);
}

/** Why prompts cannot run here: no provider configured. */
export const NO_PROVIDER =
  "Prompt mode needs an AI model provider. Set OPENAI_API_KEY (OpenAI), or OPENAI_BASE_URL and " +
  "MODEL_NAME (a server speaking OpenAI's chat-completions API: vLLM, llama.cpp, LM Studio, " +
  "LiteLLM), or OLLAMA_BASE_URL and MODEL_NAME (Ollama), then restart the server.";

/** A model API failure as the caller may read it: the provider's own message, not our stack. */
export function describeModelError(err: unknown): string {
  const last = RetryError.isInstance(err) ? err.lastError : err;
  if (APICallError.isInstance(last)) {
    const body = providerMessage(last.responseBody);
    if (last.statusCode !== undefined) {
      return `the model API answered HTTP ${last.statusCode}${body ? `: ${body}` : ` (${last.message})`}`;
    }
    // Where the model API is (an address on the operator's network) is not the tenant's to know:
    // only the kind of failure (ECONNREFUSED, ENOTFOUND, ...) is passed on.
    const code = /\bE[A-Z]{3,}\b/.exec(`${errorCode(last.cause)} ${last.message}`)?.[0];
    return `the model API could not be reached${code ? ` (${code})` : ""} (the server's model settings are the operator's to check)`;
  }
  const msg = last instanceof Error ? last.message : String(last);
  return `the model API gave an unusable reply: ${msg.slice(0, 300)}`;
}

function errorCode(err: unknown): string {
  if (!(err instanceof Error)) return "";
  const code = (err as NodeJS.ErrnoException).code;
  return `${typeof code === "string" ? code : ""} ${err.message}`;
}

/** `{"error":{"message":...}}`, `{"error":"..."}`, `{"message":...}` or the body itself, short. */
function providerMessage(body: string | undefined): string {
  if (!body) return "";
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown; detail?: unknown };
    const e = parsed.error;
    const m =
      (e && typeof e === "object" && "message" in e ? (e as { message: unknown }).message : e) ??
      parsed.message ??
      parsed.detail;
    if (typeof m === "string") return m.slice(0, 300);
  } catch {}
  return body.replace(/\s+/g, " ").trim().slice(0, 300);
}

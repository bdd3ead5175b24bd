import http from "node:http";
import type { AddressInfo } from "node:net";

/** One chat-completions request as the fake model received it. */
export interface ChatRequest {
  model: string;
  messages: { role: string; content: unknown; tool_calls?: any[]; tool_call_id?: string }[];
  tools?: { type: string; function: { name: string; parameters: any } }[];
  tool_choice?: unknown;
  temperature?: number;
  stream?: boolean;
}

/** What the fake model answers one request with. */
export type Reply =
  | { toolCalls: { name: string; arguments: string | object }[]; content?: string }
  | { content: string }
  | { status: number; body: string }
  | { delayMs: number; then: Reply };

/** A scripted turn: a fixed reply, or one computed from the request. */
export type Turn = Reply | ((req: ChatRequest) => Reply);

export interface FakeModel {
  /** The base URL to put in OPENAI_BASE_URL. */
  baseUrl: string;
  /** Requests received, in order. */
  requests: ChatRequest[];
  /** Replaces the script: one turn per request, in order; past the end, HTTP 500. */
  script(turns: Turn[]): void;
  close(): Promise<void>;
}

/** A tool call reply. */
export const call = (name: string, args: string | object = {}): Reply => ({
  toolCalls: [{ name, arguments: args }],
});

/**
 * A local server speaking OpenAI's chat-completions protocol with tool calls, answering from a
 * script turn by turn and keeping every request for the test to check.
 */
export async function startFakeModel(): Promise<FakeModel> {
  const requests: ChatRequest[] = [];
  let turns: Turn[] = [];
  let callId = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        res.writeHead(404).end(JSON.stringify({ error: { message: `no route ${req.url}` } }));
        return;
      }
      const parsed = JSON.parse(body) as ChatRequest;
      requests.push(parsed);
      const turn = turns.shift();
      let reply: Reply = turn
        ? typeof turn === "function"
          ? turn(parsed)
          : turn
        : { status: 500, body: JSON.stringify({ error: { message: "the test script ran out" } }) };
      while ("delayMs" in reply) {
        await new Promise((r) => setTimeout(r, (reply as { delayMs: number }).delayMs));
        reply = reply.then;
      }
      if ("status" in reply) {
        res.writeHead(reply.status, { "content-type": "application/json" }).end(reply.body);
        return;
      }
      const toolCalls =
        "toolCalls" in reply
          ? reply.toolCalls.map((c) => ({
              id: `call_${++callId}`,
              type: "function",
              function: {
                name: c.name,
                arguments:
                  typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments),
              },
            }))
          : undefined;
      const message = {
        role: "assistant",
        content: reply.content ?? null,
        ...(toolCalls ? { tool_calls: toolCalls } : {}),
      };
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: `chatcmpl-${requests.length}`,
          object: "chat.completion",
          created: Math.floor(Date.now() / 1000),
          model: parsed.model,
          choices: [{ index: 0, message, finish_reason: toolCalls ? "tool_calls" : "stop" }],
          usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (t) => {
      turns = [...t];
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Text of every message in a request but the system prompt, joined. */
export function conversation(req: ChatRequest): string {
  return req.messages
    .filter((m) => m.role !== "system")
    .map((m) =>
      typeof m.content === "string"
        ? m.content
        : Array.isArray(m.content)
          ? m.content.map((p: any) => p.text ?? "").join("\n")
          : "",
    )
    .join("\n");
}

/** The newest page snapshot the request shows the model. */
export function latestSnapshot(req: ChatRequest): string {
  const all = [...conversation(req).matchAll(/<page>\n([\s\S]*?)\n<\/page>/g)];
  return all.at(-1)?.[1] ?? "";
}

/** The ref of the first snapshot line containing `label` (e.g. 'button "Send"'). */
export function refOf(req: ChatRequest, label: string): string {
  const line = latestSnapshot(req)
    .split("\n")
    .find((l) => l.includes(label) && /\[ref=e\d+\]/.test(l));
  const ref = line && /\[ref=(e\d+)\]/.exec(line)?.[1];
  if (!ref) throw new Error(`no ref for ${label} in:\n${latestSnapshot(req)}`);
  return ref;
}

import type { ModelMessage } from "ai";
import type { PageView } from "./snapshot/page-snapshot.js";
import type { AgentCall } from "./tools.js";

const wrap = (view: PageView) => `<page>\n${view.text.replace(/<\/page>/gi, "<\\/page>")}\n</page>`;
const OLD_SNAPSHOT = "(snapshot left out: a newer one follows)";

/** One tool call of a reply, made executable (or the reason it is not). */
export interface ReplyCall {
  id: string;
  name: string;
  call: AgentCall | string;
}

/** What a step answers one call with. */
export interface CallAnswer {
  id: string;
  name: string;
  text: string;
}

/**
 * The messages sent to the model. Only the newest page snapshot stays in them: each new one
 * replaces the one before with a note, so the conversation grows by a line or two per step,
 * not by a page.
 */
export class Conversation {
  readonly messages: ModelMessage[] = [];
  /** Where the newest snapshot sits, to replace it once a newer one arrives. */
  private snapshotAt: { set(text: string): void } | undefined;

  /** Starts with the task and the page as the run found it. */
  constructor(task: string, view: PageView) {
    const first: ModelMessage = {
      role: "user",
      content: this.withSnapshot(`Task: ${task}\n\nThe page now:`, view),
    };
    this.snapshotAt = { set: (t) => (first.content = `Task: ${task}\n\nThe page then: ${t}`) };
    this.messages.push(first);
  }

  /** A line from us to the model (a nudge, a request for the answer). */
  tell(content: string): void {
    this.messages.push({ role: "user", content });
  }

  /** The model's reply without a tool call. */
  replied(text: string): void {
    this.messages.push({ role: "assistant", content: text });
  }

  /**
   * The model's reply with its calls: as tool calls, or as the text it wrote them in (`inText`),
   * to which results are then answered in text too.
   */
  called(text: string, calls: ReplyCall[], inText: boolean): void {
    if (inText) return this.replied(text);
    this.messages.push({
      role: "assistant",
      content: [
        ...(text ? [{ type: "text" as const, text }] : []),
        ...calls.map((c) => ({
          type: "tool-call" as const,
          toolCallId: c.id,
          toolName: typeof c.call === "string" ? c.name : c.call.tool,
          input: typeof c.call === "string" ? {} : c.call,
        })),
      ],
    });
  }

  /**
   * The answers to a reply's calls. The last one carries `note` and the new snapshot, if the
   * step made one; older snapshots leave the conversation.
   */
  answered(answers: CallAnswer[], note: string, newView: PageView | undefined, inText: boolean) {
    const lastAnswer = answers.at(-1)!;
    const lead = [lastAnswer.text, note].filter(Boolean).join("\n");
    const withPage = newView ? this.withSnapshot(lead, newView) : lead;
    if (inText) {
      const msg: ModelMessage = {
        role: "user",
        content: `Result of ${lastAnswer.name}: ${withPage}`,
      };
      if (newView) {
        this.snapshotAt = {
          set: (t) => (msg.content = `Result of ${lastAnswer.name}: ${lead}\n${t}`),
        };
      }
      this.messages.push(msg);
      return;
    }
    const parts = answers.map((a, i) => ({
      type: "tool-result" as const,
      toolCallId: a.id,
      toolName: a.name,
      output: { type: "text" as const, value: i === answers.length - 1 ? withPage : a.text },
    }));
    this.messages.push({ role: "tool", content: parts });
    if (newView) {
      const part = parts.at(-1)!;
      this.snapshotAt = { set: (t) => (part.output = { type: "text", value: `${lead}\n${t}` }) };
    }
  }

  /** `lead` and the snapshot, which becomes the newest: the one before it is left out. */
  private withSnapshot(lead: string, view: PageView): string {
    this.snapshotAt?.set(OLD_SNAPSHOT);
    return `${lead}\n${wrap(view)}`;
  }
}

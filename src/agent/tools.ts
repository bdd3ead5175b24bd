import { jsonSchema, tool, type ToolSet } from "ai";
import { jsonrepair } from "jsonrepair";
import { parseRef, type Ref } from "./snapshot/refs.js";

/** A tool call after repair: what the agent executes. */
export type AgentCall =
  | { tool: "click"; ref: Ref }
  | { tool: "fill"; ref: Ref; text: string; submit: boolean }
  | { tool: "select"; ref: Ref; options: string[] }
  | { tool: "press"; key: string; ref?: Ref }
  | { tool: "scroll"; direction: "up" | "down"; ref?: Ref }
  | { tool: "navigate"; url: string }
  | { tool: "back" }
  | { tool: "snapshot" }
  | { tool: "find_text"; text: string }
  | { tool: "read"; ref?: Ref; offset: number }
  | { tool: "done"; answer: string; success: boolean };

export type ToolName = AgentCall["tool"];

/** Tools that change the page (the rest only look at it). */
export const ACTIONS: ReadonlySet<ToolName> = new Set([
  "click",
  "fill",
  "select",
  "press",
  "scroll",
  "navigate",
  "back",
]);

const REF = { type: "string", description: "An element's ref from the latest snapshot, e.g. e12." };

const schemas: Record<ToolName, { description: string; properties: object; required: string[] }> = {
  click: {
    description: "Click an element.",
    properties: { ref: REF },
    required: ["ref"],
  },
  fill: {
    description: "Replace the text of an input or text area; submit presses Enter after.",
    properties: {
      ref: REF,
      text: { type: "string" },
      submit: { type: "boolean", description: "Press Enter after filling." },
    },
    required: ["ref", "text"],
  },
  select: {
    description: "Choose options of a <select> by their label or value.",
    properties: { ref: REF, options: { type: "array", items: { type: "string" } } },
    required: ["ref", "options"],
  },
  press: {
    description:
      "Press a key (Enter, Escape, Tab, ArrowDown, Control+A...), in an element if given.",
    properties: { key: { type: "string" }, ref: REF },
    required: ["key"],
  },
  scroll: {
    description: "Scroll the page one screen up or down, or scroll an element into view.",
    properties: { direction: { type: "string", enum: ["down", "up"] }, ref: REF },
    required: [],
  },
  navigate: {
    description: "Open a URL (http or https) in the current tab.",
    properties: { url: { type: "string" } },
    required: ["url"],
  },
  back: { description: "Go back to the previous page.", properties: {}, required: [] },
  snapshot: {
    description: "Look at the page again without acting.",
    properties: {},
    required: [],
  },
  find_text: {
    description: "Search all of the page's text (also what the snapshot left out) for a phrase.",
    properties: { text: { type: "string" } },
    required: ["text"],
  },
  read: {
    description:
      "Full text of an element, or of the whole page without a ref; long text in parts from offset.",
    properties: { ref: REF, offset: { type: "integer", description: "Character to start at." } },
    required: [],
  },
  done: {
    description: "Finish: give the answer to the task. success is false when it cannot be done.",
    properties: {
      answer: {
        type: "string",
        description: "The complete answer, with the figures from the page.",
      },
      success: { type: "boolean" },
    },
    required: ["answer"],
  },
};

/** The tools as the model is offered them; `only` narrows the set (the last step: done). */
export function agentTools(only?: ToolName[]): ToolSet {
  const names = (only ?? (Object.keys(schemas) as ToolName[])).filter((n) => n in schemas);
  return Object.fromEntries(
    names.map((name) => {
      const s = schemas[name];
      return [
        name,
        tool({
          description: s.description,
          inputSchema: jsonSchema({
            type: "object",
            properties: s.properties as never,
            required: s.required,
          }),
        }),
      ];
    }),
  );
}

/** Names small models use for our tools. */
const TOOL_ALIASES: Record<string, ToolName> = {
  click_element: "click",
  tap: "click",
  type: "fill",
  type_text: "fill",
  input: "fill",
  input_text: "fill",
  enter_text: "fill",
  fill_form: "fill",
  select_option: "select",
  choose: "select",
  key: "press",
  keypress: "press",
  press_key: "press",
  scroll_down: "scroll",
  scroll_up: "scroll",
  goto: "navigate",
  go_to: "navigate",
  open: "navigate",
  open_url: "navigate",
  visit: "navigate",
  go_back: "back",
  get_snapshot: "snapshot",
  look: "snapshot",
  find: "find_text",
  search: "find_text",
  search_text: "find_text",
  grep: "find_text",
  get_text: "read",
  read_text: "read",
  extract: "read",
  answer: "done",
  finish: "done",
  final_answer: "done",
  respond: "done",
  submit_answer: "done",
};

type Args = Record<string, unknown>;

const first = (a: Args, keys: string[]): unknown => {
  for (const k of keys) if (a[k] !== undefined && a[k] !== null) return a[k];
  return undefined;
};
const str = (a: Args, keys: string[]): string | undefined => {
  const v = first(a, keys);
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
};
const bool = (v: unknown, dflt: boolean): boolean =>
  v === undefined ? dflt : v === true || v === "true" || v === 1 || v === "yes";

/** Arguments as an object, whatever the model sent: an object, JSON, or broken JSON. */
export function parseArgs(input: unknown): Args | undefined {
  if (input && typeof input === "object" && !Array.isArray(input)) return input as Args;
  if (typeof input !== "string") return input === undefined || input === null ? {} : undefined;
  const text = input.trim();
  if (!text) return {};
  for (const candidate of [text, () => jsonrepair(text)]) {
    try {
      const parsed: unknown = JSON.parse(typeof candidate === "string" ? candidate : candidate());
      if (typeof parsed === "string") return parseArgs(parsed);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Args;
    } catch {}
  }
  return undefined;
}

/**
 * A model's tool call made executable: names and argument spellings small models use are
 * accepted, broken JSON repaired, refs read however they were written. A string is the reason
 * it cannot be, for the model to correct.
 */
export function normalizeCall(name: string, input: unknown): AgentCall | string {
  const lower = name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, "_");
  const toolName = (lower in schemas ? lower : TOOL_ALIASES[lower]) as ToolName | undefined;
  if (!toolName)
    return `There is no tool "${name}". Use one of: ${Object.keys(schemas).join(", ")}.`;
  const args = parseArgs(input);
  if (!args) return `The arguments of ${toolName} are not a JSON object.`;
  const refArg = first(args, [
    "ref",
    "element",
    "element_ref",
    "elementRef",
    "target",
    "id",
    "selector",
  ]);
  const ref = refArg === undefined ? undefined : parseRef(refArg);
  const needRef = (): string | undefined =>
    refArg === undefined
      ? `${toolName} needs a ref, e.g. {"ref": "e12"}.`
      : ref
        ? undefined
        : `"${String(refArg)}" is not a ref; refs look like e12.`;
  switch (toolName) {
    case "click":
      return needRef() ?? { tool: "click", ref: ref! };
    case "fill": {
      const text = str(args, ["text", "value", "content", "input"]);
      if (text === undefined)
        return 'fill needs the text to type, e.g. {"ref": "e3", "text": "hello"}.';
      return needRef() ?? { tool: "fill", ref: ref!, text, submit: bool(args.submit, false) };
    }
    case "select": {
      const raw = first(args, ["options", "option", "values", "value", "label"]);
      const options = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String);
      if (!options.length) return 'select needs options, e.g. {"ref": "e4", "options": ["Blue"]}.';
      return needRef() ?? { tool: "select", ref: ref!, options };
    }
    case "press": {
      const key = str(args, ["key", "keys", "text"]);
      if (!key) return 'press needs a key, e.g. {"key": "Enter"}.';
      if (refArg !== undefined && !ref) return needRef()!;
      return { tool: "press", key, ...(ref ? { ref } : {}) };
    }
    case "scroll": {
      const dir = String(
        first(args, ["direction", "dir"]) ?? (lower === "scroll_up" ? "up" : "down"),
      );
      if (refArg !== undefined && !ref) return needRef()!;
      return {
        tool: "scroll",
        direction: /up/i.test(dir) ? "up" : "down",
        ...(ref ? { ref } : {}),
      };
    }
    case "navigate": {
      const url = str(args, ["url", "href", "link", "address"]);
      return url
        ? { tool: "navigate", url }
        : 'navigate needs a url, e.g. {"url": "https://example.com"}.';
    }
    case "back":
      return { tool: "back" };
    case "snapshot":
      return { tool: "snapshot" };
    case "find_text": {
      const text = str(args, ["text", "query", "phrase", "q", "search"]);
      return text?.trim()
        ? { tool: "find_text", text }
        : 'find_text needs text, e.g. {"text": "price"}.';
    }
    case "read": {
      if (refArg !== undefined && !ref) return needRef()!;
      const offset = Number(first(args, ["offset", "start"]) ?? 0);
      return {
        tool: "read",
        ...(ref ? { ref } : {}),
        offset: Number.isFinite(offset) && offset > 0 ? Math.floor(offset) : 0,
      };
    }
    case "done": {
      const answer = str(args, ["answer", "text", "result", "output", "response", "message"]);
      return { tool: "done", answer: answer ?? "", success: bool(args.success, true) };
    }
  }
}

/**
 * A tool call written in the reply's text, as small models do when a server does not parse
 * their tool calls: `<tool_call>{...}</tool_call>`, a ```json block, or a bare JSON object with
 * name and arguments.
 */
export function callFromText(text: string): { name: string; input: unknown } | undefined {
  const candidates: string[] = [];
  for (const m of text.matchAll(/<tool_call>([\s\S]*?)(?:<\/tool_call>|$)/g))
    candidates.push(m[1]!);
  for (const m of text.matchAll(/```(?:json)?\s*([\s\S]*?)```/g)) candidates.push(m[1]!);
  const brace = text.indexOf("{");
  if (brace >= 0) candidates.push(text.slice(brace, text.lastIndexOf("}") + 1));
  for (const c of candidates) {
    const obj = parseArgs(c.trim());
    if (!obj) continue;
    const fn = obj.function && typeof obj.function === "object" ? (obj.function as Args) : obj;
    const name = first(fn, ["name", "tool", "tool_name", "action"]);
    if (typeof name !== "string") continue;
    const input = first(fn, ["arguments", "args", "parameters", "input", "params"]) ?? {};
    return { name, input };
  }
  return undefined;
}

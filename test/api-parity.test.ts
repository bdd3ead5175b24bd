import path from "node:path";
import ts from "typescript";
import { describe, expect, test } from "vitest";
import type { z } from "zod";
import {
  createBrowserSchema,
  executeBrowserSchema,
  listBrowsersSchema,
} from "../src/browser-api/request.js";
import { interactRequestSchema } from "../src/interact/request.js";

const SDK_TYPES = path.resolve(
  import.meta.dirname,
  "../node_modules/@mendable/firecrawl-js/dist/index.d.ts",
);

/**
 * Property names of the official SDK's request bodies, read from its type declarations: an
 * interface, or the `args` parameter of one of its API functions.
 */
function sdkFields(): Record<string, string[]> {
  const file = ts.createSourceFile(
    SDK_TYPES,
    ts.sys.readFile(SDK_TYPES)!,
    ts.ScriptTarget.ES2022,
    true,
  );
  const names = (members: ts.NodeArray<ts.TypeElement>) =>
    members.filter(ts.isPropertySignature).map((m) => m.name.getText(file));
  const iface = (name: string) => {
    const decl = file.statements.find(
      (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name,
    );
    if (!decl) throw new Error(`the SDK has no interface ${name}`);
    return names(decl.members);
  };
  const args = (fn: string) => {
    const decl = file.statements.find(
      (s): s is ts.FunctionDeclaration => ts.isFunctionDeclaration(s) && s.name?.text === fn,
    );
    const param = decl?.parameters.find((p) => p.name.getText(file) === "args");
    if (!param?.type || !ts.isTypeLiteralNode(param.type)) {
      throw new Error(`the SDK has no ${fn}(..., args: {...})`);
    }
    return names(param.type.members);
  };
  return {
    interact: iface("ScrapeExecuteRequest"),
    browser: args("browser"),
    browserExecute: args("browserExecute"),
    listBrowsers: args("listBrowsers"),
  };
}

/** A valid value for every field any of those bodies has; a new SDK field fails the test. */
const SAMPLES: Record<string, unknown> = {
  code: "1",
  prompt: "What is the title?",
  language: "node",
  timeout: 30,
  origin: "js-sdk@4.42.0",
  integration: "cli",
  ttl: 120,
  activityTtl: 60,
  streamWebView: true,
  profile: { name: "work", saveChanges: false },
  status: "active",
};

const SCHEMAS: Record<string, { schema: z.ZodTypeAny; base: Record<string, unknown> }> = {
  // Exactly one of code and prompt: each is tried with the base's other fields.
  interact: { schema: interactRequestSchema, base: {} },
  browser: { schema: createBrowserSchema, base: {} },
  browserExecute: { schema: executeBrowserSchema, base: { code: "ls" } },
  listBrowsers: { schema: listBrowsersSchema, base: {} },
};

describe("every field the official SDK sends to interact and the browser API is accepted", () => {
  const fields = sdkFields();
  for (const [body, names] of Object.entries(fields)) {
    test(`${body}: ${names.join(", ")}`, () => {
      const { schema, base } = SCHEMAS[body]!;
      for (const name of names) {
        expect(SAMPLES, `no sample for the SDK's new field ${body}.${name}`).toHaveProperty(name);
        const value: Record<string, unknown> = { ...base, [name]: SAMPLES[name] };
        if (body === "interact" && name !== "code" && name !== "prompt") value.code = "1";
        const parsed = schema.safeParse(value);
        expect(parsed.success ? [] : parsed.error.issues, `${body}.${name}`).toEqual([]);
      }
    });
  }
});

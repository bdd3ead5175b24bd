import { parse, type Program } from "acorn";

const OPTIONS = {
  ecmaVersion: "latest",
  sourceType: "script",
  allowReturnOutsideFunction: true,
  allowAwaitOutsideFunction: true,
} as const;

function parseScript(script: string): Program {
  return parse(script, OPTIONS);
}

/** Why a user script cannot run, or undefined when it parses. Used by request validation. */
export function scriptSyntaxError(script: string): string | undefined {
  try {
    parseScript(script);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Turns an executeJavascript script into an expression for page.evaluate. The script runs inside
 * an async function, so its top-level `const`s never clash with the page's globals or with the
 * next action, `await` and `return` work, and, as in a browser console, the value of a final
 * expression statement is what the action returns.
 */
export function toPageExpression(script: string): string {
  const program = parseScript(script);
  const last = program.body[program.body.length - 1];
  let body = script;
  if (last?.type === "ExpressionStatement") {
    const expr = script.slice(last.expression.start, last.expression.end);
    body = `${script.slice(0, last.start)}return (${expr});${script.slice(last.end)}`;
  }
  return `(async () => {\n${body}\n})()`;
}

import * as acorn from "acorn";

/**
 * What the runner executes. `script`: run as-is in the persistent context, the completion value
 * is the result. `async`: the code is an async function call whose promise gives the result.
 */
export type PreparedCode =
  { ok: true; kind: "script" | "async"; code: string } | { ok: false; error: string };

type Node = acorn.AnyNode;
interface Edit {
  start: number;
  end: number;
  text: string;
}

const FUNCTION_TYPES = new Set([
  "FunctionDeclaration",
  "FunctionExpression",
  "ArrowFunctionExpression",
]);

/**
 * Turns user code into something the runner can run in one persistent vm context, so that
 * top-level declarations survive into the next run. Declarations become `var`s on the context's
 * global: a later run may declare the same name again (as a notebook cell re-run does), which
 * `let`/`const` would refuse. Code with top-level `await` or `return` is wrapped in an async
 * function whose last expression statement is returned. A SyntaxError is the user's error.
 */
export function prepareCode(source: string): PreparedCode {
  let program: acorn.Program;
  try {
    program = acorn.parse(source, {
      ecmaVersion: "latest",
      sourceType: "script",
      allowAwaitOutsideFunction: true,
      allowReturnOutsideFunction: true,
    });
  } catch (err) {
    return { ok: false, error: `SyntaxError: ${(err as Error).message}` };
  }
  const src = (n: { start: number; end: number }) => source.slice(n.start, n.end);
  return needsAsync(program)
    ? { ok: true, kind: "async", code: wrapAsync(program, source, src) }
    : { ok: true, kind: "script", code: rewriteScript(program, source, src) };
}

/** True when `await` or `return` appears outside any function body. */
function needsAsync(program: acorn.Program): boolean {
  let found = false;
  walk(program, (n) => {
    if (n.type === "AwaitExpression" || n.type === "ReturnStatement") found = true;
    if (n.type === "ForOfStatement" && n.await) found = true;
  });
  return found;
}

/** Script mode: top-level `let`/`const` become `var`, classes become `var` assignments. */
function rewriteScript(
  program: acorn.Program,
  source: string,
  src: (n: { start: number; end: number }) => string,
): string {
  const edits: Edit[] = [];
  for (const stmt of program.body) {
    if (stmt.type === "VariableDeclaration" && stmt.kind !== "var") {
      // A declaration keeps an empty completion value, so `const a = 1;` still gives "".
      const parts = stmt.declarations.map(
        (d) => `${src(d.id)} = ${d.init ? src(d.init) : "void 0"}`,
      );
      edits.push({ start: stmt.start, end: stmt.end, text: `var ${parts.join(", ")};` });
    } else if (stmt.type === "ClassDeclaration" && stmt.id) {
      edits.push({ start: stmt.start, end: stmt.end, text: `var ${stmt.id.name} = ${src(stmt)};` });
    }
  }
  return applyEdits(source, edits);
}

/** Async mode: hoist every top-level name to a `var`, run the body inside an async function. */
function wrapAsync(
  program: acorn.Program,
  source: string,
  src: (n: { start: number; end: number }) => string,
): string {
  const names = new Set<string>();
  const edits: Edit[] = [];
  const hoistedFunctions: string[] = [];

  const declare = (decl: acorn.VariableDeclaration, inForHead: boolean) => {
    const parts: string[] = [];
    for (const d of decl.declarations) {
      boundNames(d.id, names);
      if (d.init) parts.push(`(${src(d.id)} = ${src(d.init)})`);
      else if (inForHead) parts.push(src(d.id));
      else if (decl.kind !== "var") parts.push(`(${src(d.id)} = void 0)`);
    }
    const text = inForHead ? parts.join(", ") : parts.length ? `${parts.join(", ")};` : ";";
    edits.push({ start: decl.start, end: decl.end, text });
  };

  for (const stmt of program.body) {
    if (stmt.type === "VariableDeclaration") declare(stmt, false);
    else if (stmt.type === "FunctionDeclaration" && stmt.id) {
      names.add(stmt.id.name);
      // Functions are hoisted: assign them before any other statement runs.
      hoistedFunctions.push(`${stmt.id.name} = ${src(stmt)};`);
      edits.push({ start: stmt.start, end: stmt.end, text: "" });
    } else if (stmt.type === "ClassDeclaration" && stmt.id) {
      names.add(stmt.id.name);
      edits.push({ start: stmt.start, end: stmt.end, text: `${stmt.id.name} = ${src(stmt)};` });
    } else {
      // `var` inside top-level blocks and loops belongs to the global scope too.
      walk(stmt, (n, parent) => {
        if (n.type !== "VariableDeclaration" || n.kind !== "var") return;
        const inForHead =
          (parent?.type === "ForStatement" && parent.init === n) ||
          ((parent?.type === "ForInStatement" || parent?.type === "ForOfStatement") &&
            parent.left === n);
        declare(n, inForHead);
        return "skip";
      });
    }
  }

  const last = program.body[program.body.length - 1];
  if (last?.type === "ExpressionStatement") {
    edits.push({ start: last.start, end: last.end, text: `return (${src(last.expression)});` });
  }

  const hoisted = names.size ? `var ${[...names].join(", ")}; ` : "";
  // Everything added goes on the first line so that stack traces keep the user's line numbers.
  const head = `${hoisted}(async () => { ${hoistedFunctions.join(" ")}`;
  return `${head}${applyEdits(source, edits)}\n})()`;
}

/** Collects the identifiers a binding pattern declares. */
function boundNames(pattern: acorn.Pattern, into: Set<string>): void {
  switch (pattern.type) {
    case "Identifier":
      into.add(pattern.name);
      break;
    case "ObjectPattern":
      for (const p of pattern.properties) {
        boundNames(p.type === "RestElement" ? p.argument : p.value, into);
      }
      break;
    case "ArrayPattern":
      for (const el of pattern.elements) if (el) boundNames(el, into);
      break;
    case "RestElement":
      boundNames(pattern.argument, into);
      break;
    case "AssignmentPattern":
      boundNames(pattern.left, into);
      break;
    default:
      break;
  }
}

/**
 * Visits every node outside function bodies and class bodies (their own scopes), parents first.
 * The visitor returns "skip" to leave a node's children alone.
 */
function walk(root: Node, visit: (n: Node, parent: Node | undefined) => "skip" | void): void {
  const stack: [Node, Node | undefined][] = [[root, undefined]];
  while (stack.length) {
    const [node, parent] = stack.pop()!;
    if (node !== root && (FUNCTION_TYPES.has(node.type) || node.type === "ClassBody")) continue;
    if (visit(node, parent) === "skip") continue;
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) {
        for (const v of value) if (isNode(v)) stack.push([v, node]);
      } else if (isNode(value)) {
        stack.push([value, node]);
      }
    }
  }
}

function isNode(v: unknown): v is Node {
  return typeof v === "object" && v !== null && typeof (v as { type?: unknown }).type === "string";
}

function applyEdits(source: string, edits: Edit[]): string {
  let out = source;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
  }
  return out;
}

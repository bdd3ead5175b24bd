import { execFile } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";

/** The tests' own venv, holding Firecrawl's Python SDK (scripts/setup.mjs --tests makes it). */
const SDK_PYTHON = fileURLToPath(new URL("../../.venv-tests/bin/python3", import.meta.url));

/** An exception the snippet raised, as a Python user would see it. */
export interface PythonRaised {
  /** The exception's class name (`FirecrawlError`, `BadRequestError`, `ValidationError`...). */
  type: string;
  /** Its class and every base class, nearest first. */
  classes: string[];
  /** str(exception): what a traceback shows. */
  message: string;
  /** The SDK's `status_code` and `code` attributes, when it set them. */
  statusCode: number | null;
  code: string | null;
}

/**
 * Runs the snippet with `fc = Firecrawl(api_key=..., api_url=...)` in scope; the snippet leaves
 * what the test reads in `result`, pydantic models turned into plain JSON (snake_case fields,
 * as Python code sees them). An exception becomes `raised`.
 */
const RUNNER = `
import json, os, sys, textwrap
from firecrawl import Firecrawl

fc = Firecrawl(api_key=os.environ.get("FC_TEST_API_KEY") or None, api_url=os.environ["FC_TEST_API_URL"])

def plain(value):
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value

scope = {"fc": fc, "Firecrawl": Firecrawl}
try:
    exec(compile(textwrap.dedent(sys.stdin.read()), "<snippet>", "exec"), scope)
    answer = {"result": plain(scope.get("result"))}
except Exception as e:
    answer = {"raised": {
        "type": type(e).__name__,
        "classes": [c.__name__ for c in type(e).__mro__],
        "message": str(e),
        "statusCode": getattr(e, "status_code", None),
        "code": getattr(e, "code", None),
    }}
sys.stdout.write("\\n@@answer@@" + json.dumps(answer, default=str))
`;

export interface PythonSdk {
  /** Runs a snippet; its `result` or what it raised. */
  run(code: string): Promise<{ result?: any; raised?: PythonRaised }>;
  /** Runs a snippet and returns its `result`; what it raised fails the test with its message. */
  value(code: string): Promise<any>;
  /** Runs a snippet that must raise, and returns what it raised. */
  raised(code: string): Promise<PythonRaised>;
}

/**
 * Firecrawl's official Python SDK (firecrawl-py), pointed at a test server: each call runs one
 * Python process. With no key the SDK sends no Authorization header at all.
 */
export function pythonSdk(server: { url: string }, apiKey?: string): PythonSdk {
  const run = (code: string) =>
    new Promise<{ result?: any; raised?: PythonRaised }>((resolve, reject) => {
      if (!fs.existsSync(SDK_PYTHON)) {
        reject(
          new Error(
            `Firecrawl's Python SDK is not installed (${SDK_PYTHON} is missing): ` +
              "run `node scripts/setup.mjs --tests` (npm test does).",
          ),
        );
        return;
      }
      const child = execFile(
        SDK_PYTHON,
        ["-c", RUNNER],
        {
          // Only what the SDK needs: no FIRECRAWL_API_KEY or proxy settings from this process.
          env: {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            HOME: process.env.HOME ?? "/tmp",
            FC_TEST_API_URL: server.url,
            FC_TEST_API_KEY: apiKey ?? "",
            PYTHONDONTWRITEBYTECODE: "1",
          },
          maxBuffer: 64 * 1024 * 1024,
          timeout: 120_000,
        },
        (err, stdout, stderr) => {
          const at = stdout.lastIndexOf("@@answer@@");
          if (at < 0) {
            reject(new Error(`python failed (${err?.message ?? "no answer"}):\n${stderr}`));
            return;
          }
          resolve(JSON.parse(stdout.slice(at + "@@answer@@".length)));
        },
      );
      child.stdin!.end(code);
    });
  return {
    run,
    async value(code) {
      const { result, raised } = await run(code);
      if (raised) throw new Error(`the snippet raised ${raised.type}: ${raised.message}`);
      return result;
    },
    async raised(code) {
      const { result, raised } = await run(code);
      if (!raised) throw new Error(`the snippet raised nothing; result: ${JSON.stringify(result)}`);
      return raised;
    },
  };
}

import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Language } from "../types.js";
import type { LanguageRuntime } from "./runtime.js";

/** A runtime together with the host paths its files are at. */
export interface ReadyRuntime {
  runtime: LanguageRuntime;
  /** Host path of each of runtime.files(), by name. */
  files: Record<string, string>;
  /** Why it could not be made ready (nothing staged), for the caller's 503. */
  unavailable?: string;
}

/**
 * The languages this server runs, each with its files ready on the host. Staged copies live in
 * the sandbox root, readable by the unprivileged sandbox users whatever the project folder's
 * permissions; unstaged runtimes use the project's own files (tests, SANDBOX=none).
 */
export class Runtimes {
  /** Staged runtimes whose warm-up has been started (or was not needed). */
  private readonly warmed = new Set<Language>();
  private readonly warming = new Set<ChildProcess>();

  private constructor(
    private readonly ready: Map<Language, ReadyRuntime>,
    private readonly staged = false,
  ) {}

  /** The runtimes using the project's files where they are. */
  static inPlace(list: LanguageRuntime[]): Runtimes {
    return new Runtimes(
      new Map(
        list.map((runtime) => {
          const unavailable = runtime.unavailable();
          const files = unavailable ? {} : runtime.files();
          return [runtime.language, { runtime, files, unavailable }];
        }),
      ),
    );
  }

  /** Copies each runtime's files into `root/runtime/<language>/`, readable by everyone. */
  static stage(root: string, list: LanguageRuntime[]): Runtimes {
    fs.mkdirSync(root, { recursive: true, mode: 0o711 });
    fs.chmodSync(root, 0o711);
    const target = path.join(root, "runtime");
    fs.rmSync(target, { recursive: true, force: true });
    const ready = new Map<Language, ReadyRuntime>();
    for (const runtime of list) {
      const unavailable = runtime.unavailable();
      if (unavailable) {
        ready.set(runtime.language, { runtime, files: {}, unavailable });
        continue;
      }
      const files: Record<string, string> = {};
      for (const [name, from] of Object.entries(runtime.files())) {
        const to = path.join(target, runtime.language, name);
        const skip = runtime.skipWhenStaging?.bind(runtime);
        fs.cpSync(from, to, {
          recursive: true,
          dereference: true,
          // Python trusts its cached bytecode only while the source keeps its modification time.
          preserveTimestamps: true,
          filter: skip ? (src) => !skip(path.relative(from, src)) : undefined,
        });
        files[name] = to;
      }
      ready.set(runtime.language, { runtime, files });
    }
    openForReading(target);
    return new Runtimes(ready, true);
  }

  /** The language's runtime; the first time, a staged one's warm-up starts in the background. */
  get(language: Language): ReadyRuntime | undefined {
    const ready = this.ready.get(language);
    if (ready && this.staged && !ready.unavailable && !this.warmed.has(language)) {
      this.warmed.add(language);
      const argv = ready.runtime.warmUp?.(ready.files);
      if (argv) this.warmUp(argv);
    }
    return ready;
  }

  /** Stops warm-ups still running (their output is written whole or not at all). */
  async close(): Promise<void> {
    await Promise.all(
      [...this.warming].map((child) => {
        const gone = new Promise((r) => child.once("close", r));
        child.kill("SIGKILL");
        return gone;
      }),
    );
  }

  private warmUp([file, ...args]: string[]): void {
    // Best effort: a runtime works the same without it, only slower to start.
    const child = spawn(file!, args, { stdio: "ignore" });
    this.warming.add(child);
    child.once("error", () => {});
    child.once("close", () => this.warming.delete(child));
  }

  languages(): Language[] {
    return [...this.ready.keys()];
  }

  /** Why the language cannot run here, or undefined when it can. */
  unavailable(language: Language): string | undefined {
    const ready = this.ready.get(language);
    if (!ready) return `The "${language}" language is not available on this server.`;
    return ready.unavailable ?? ready.runtime.unavailable();
  }
}

function openForReading(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) openForReading(p);
    // Executables (agent-browser) stay executable.
    else if (entry.isFile()) fs.chmodSync(p, fs.statSync(p).mode & 0o111 ? 0o755 : 0o644);
  }
}

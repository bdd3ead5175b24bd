import { descendants as below, pssBytes as pss } from "../src/processes/process-table.js";

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Percentile p (0-100) of a list of numbers. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Milliseconds taken by fn. */
export async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Resolves after ms milliseconds. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `loops` copies of fn at once (fn gets its loop's index) and waits for all of them. */
export function atOnce<T>(loops: number, fn: (loop: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: loops }, (_, i) => fn(i)));
}

/** Every process below pid in the process tree. */
export function descendants(pid: number): number[] {
  return below(pid);
}

/** Proportional set size of the given processes, in bytes (shared pages split fairly). */
export function pssBytes(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (pss(pid) ?? 0), 0);
}

/** PSS of every process this bench started (servers, browsers, sandboxes), in bytes. */
export function treePss(): number {
  return pssBytes(descendants(process.pid));
}

/** Formats a figure line for the console. */
export function line(label: string, value: string, extra = ""): void {
  console.log(`${label.padEnd(66)} ${value.padStart(12)}  ${extra}`);
}

/** "123.4 ms". */
export const ms = (x: number) => `${x.toFixed(1)} ms`;

/** "1.07x baseline" style ratio of a to b. */
export const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

/**
 * The sections named in BENCH_ONLY (comma-separated), or all of them when it is unset; an
 * unknown name is an error that lists the known ones.
 */
export function selectedSections<const T extends string>(
  all: readonly T[],
  only = process.env.BENCH_ONLY,
): Set<T> {
  if (!only?.trim()) return new Set(all);
  const names = only
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(all as readonly string[]).includes(n));
  if (unknown.length) {
    throw new Error(`BENCH_ONLY: unknown section ${unknown.join(", ")}; known: ${all.join(", ")}`);
  }
  return new Set(names as T[]);
}

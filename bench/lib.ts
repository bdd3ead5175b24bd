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

/** Every process below pid in the process tree. */
export function descendants(pid: number): number[] {
  return below(pid);
}

/** Proportional set size of the given processes, in bytes (shared pages split fairly). */
export function pssBytes(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (pss(pid) ?? 0), 0);
}

/** Formats a figure line for the console. */
export function line(label: string, value: string, extra = ""): void {
  console.log(`${label.padEnd(58)} ${value.padStart(12)}  ${extra}`);
}

/**
 * Firecrawl's published prices, in credits: browser time per minute, higher once an AI prompt
 * has run in the session. A scrape's price (1 credit, per started minute it holds a scrape slot)
 * is in scrape/price.ts.
 */
export const RATES = {
  codePerMinute: 2,
  promptPerMinute: 7,
} as const;

/** Browser time is billed per second, but never less than this. */
const MINIMUM_MS = 60_000;

/** Credits for a session that lived durationMs: per second, at least a minute, rounded up. */
export function sessionCredits(durationMs: number, usedPrompt: boolean): number {
  const perMinute = usedPrompt ? RATES.promptPerMinute : RATES.codePerMinute;
  const seconds = Math.ceil(Math.max(MINIMUM_MS, durationMs) / 1000);
  return Math.ceil((seconds * perMinute) / 60);
}

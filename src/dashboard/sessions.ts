import { z } from "zod";
import type { SessionService, ListedSession } from "../sessions/service.js";
import type { ScrapeRepository } from "../store/repositories.js";
import { sessionUrls } from "../urls/public-urls.js";

/** How long an ended session stays in the list, with the reason it ended. */
export const ENDED_SHOWN_MS = 10 * 60_000;
const LIST_LIMIT = 200;

const iso = z.string().describe("An ISO 8601 time.");
const url = z.string().nullable();

/** One session as `GET /v2/sessions` lists it. Times are ISO strings; durations are ms. */
export const sessionSummarySchema = z.object({
  id: z.string().uuid(),
  kind: z.enum(["interact", "browser"]),
  scrapeId: z
    .string()
    .describe("The scrape it continues (its own id for a standalone browser session)."),
  scrapeUrl: url.describe("The URL that scrape asked for; null for a standalone browser session."),
  currentUrl: url.describe("The page on show now; null once ended or when another node holds it."),
  lastUrl: url.describe(
    "The page last on show: while live, the page on show now (as last recorded when another " +
      "node holds it); once ended, the last one recorded. Null when none was.",
  ),
  status: z.enum(["starting", "active", "destroyed"]),
  createdAt: iso,
  lastActivity: iso,
  ageMs: z.number().int(),
  idleMs: z.number().int(),
  languages: z
    .array(z.string())
    .describe(
      "Languages that have run code here (node, python, bash) in the order first used; prompt " +
        "once the agent ran. Kept once the session ends.",
    ),
  calls: z.number().int().describe("Calls run in it (code and prompts); kept once it ends."),
  busy: z.boolean().describe("True while a call runs or waits."),
  expiresAt: iso.nullable(),
  endedAt: iso.nullable(),
  endReason: z
    .string()
    .nullable()
    .describe("stopped, ttl, idle, browser_crashed, shutdown, server_restarted or node_lost."),
  durationMs: z
    .number()
    .int()
    .nullable()
    .describe("How long it lived, once ended; null while live."),
  creditsBilled: z
    .number()
    .nullable()
    .describe(
      "What it was billed once ended and settled (without authentication, what it would have " +
        "cost); null while live or not settled yet.",
    ),
  recorded: z.boolean().describe("Whether a recording of it is kept."),
  files: z.number().int().describe("How many files its browser downloaded are kept."),
  cdpUrl: url.describe("Only for live sessions this node holds, as are the live view URLs."),
  liveViewUrl: url,
  interactiveLiveViewUrl: url,
});

export type SessionSummary = z.infer<typeof sessionSummarySchema>;

/**
 * The team's sessions for the dashboard's list (and any client that wants the same view): live
 * ones first with what they are doing now, then those ended in the last ten minutes with why
 * and what they did (kept in the shared record, so on any node and after a restart).
 */
export class SessionOverview {
  constructor(
    private readonly sessions: SessionService,
    private readonly scrapes: ScrapeRepository,
  ) {}

  async list(teamId: string, baseUrl: string, now = Date.now()): Promise<SessionSummary[]> {
    const found = await this.sessions.listOfTeam(teamId, {
      status: "all",
      limit: LIST_LIMIT,
      endedSince: now - ENDED_SHOWN_MS,
    });
    const urls = await this.scrapeUrls(found);
    const out = found.map((f) => summarize(f, urls.get(f.record.scrapeId) ?? null, baseUrl, now));
    return out.sort((a, b) => liveFirst(a) - liveFirst(b));
  }

  private async scrapeUrls(found: ListedSession[]): Promise<Map<string, string>> {
    const ids = found.filter((f) => f.record.kind === "interact").map((f) => f.record.scrapeId);
    const urls = new Map<string, string>();
    await Promise.all(
      [...new Set(ids)].map(async (id) => {
        const scrape = await this.scrapes.get(id);
        if (scrape) urls.set(id, scrape.url);
      }),
    );
    return urls;
  }
}

const liveFirst = (s: SessionSummary) => (s.status === "destroyed" ? 1 : 0);
const isoTime = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

function summarize(
  { record, live }: ListedSession,
  scrapeUrl: string | null,
  baseUrl: string,
  now: number,
): SessionSummary {
  const session = live;
  const lastActivity = session?.lastUsedAt ?? record.seenAt ?? record.createdAt;
  const end = record.destroyedAt ?? now;
  const ttl = session?.ttlMs ?? record.ttlMs;
  const urls = live
    ? sessionUrls(baseUrl, live)
    : { cdpUrl: null, liveViewUrl: null, interactiveLiveViewUrl: null };
  // Live details where the session lives; what the record kept otherwise (ended, or no answer).
  const languages: string[] = [...(session?.languages ?? record.languages)];
  if (session?.usedPrompt ?? record.usedPrompt) languages.push("prompt");
  const ended = record.destroyedAt !== null;
  return {
    id: record.id,
    kind: record.kind,
    scrapeId: record.scrapeId,
    scrapeUrl,
    currentUrl: session?.currentUrl ?? null,
    lastUrl: session?.currentUrl ?? record.lastUrl,
    status: record.status,
    createdAt: isoTime(record.createdAt)!,
    lastActivity: isoTime(lastActivity)!,
    ageMs: Math.max(0, end - record.createdAt),
    idleMs: session?.busy ? 0 : Math.max(0, Math.min(end, now) - lastActivity),
    languages,
    calls: session?.calls ?? record.calls,
    busy: (session?.busy ?? 0) > 0,
    expiresAt: record.destroyedAt ? null : isoTime(ttl ? record.createdAt + ttl : null),
    endedAt: isoTime(record.destroyedAt),
    endReason: record.destroyReason,
    durationMs: ended ? Math.max(0, record.destroyedAt! - record.createdAt) : null,
    creditsBilled: ended ? record.creditsBilled : null,
    recorded: record.recorded,
    files: record.files,
    ...urls,
  };
}

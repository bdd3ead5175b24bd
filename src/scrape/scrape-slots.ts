import type { Deadline } from "../deadline/deadline.js";
import { AppError, MESSAGES } from "../errors/app-error.js";

interface Waiter {
  grant: () => void;
}

/** One team's share of the slots: what it holds, its own line, and its scrapes in flight. */
interface TeamLine {
  running: number;
  /** When it was last given a slot (a count of grants); -1 before its first. */
  lastGrant: number;
  /** First come first served within the team. */
  line: Waiter[];
  /** When each of its scrapes in flight (running or waiting) ends at the latest: its deadline. */
  inFlight: Set<{ endsAt: number }>;
}

/**
 * How many scrapes use the browser at once, shared fairly between teams.
 *
 * A scrape takes a free slot at once: a team with no competitors may use every slot. When none
 * is free it waits in its own team's line, first come first served, while its own deadline runs
 * (it still times out or stops when its client goes away). A slot that frees is handed to the
 * waiting team holding the fewest slots; among equals, to the one served least recently (round
 * robin). So a team that took every slot while alone gets none of the freed ones while another
 * team waits with fewer, and no grant ever takes a team past ceil(slots / k) while k teams wait
 * (it holds the fewest of them, and together they hold less than all the slots). Nothing is
 * taken away from a running scrape: a newcomer waits at most until the first slot frees.
 *
 * Each team may have `maxPerTeam` scrapes in flight (running and waiting); past that it is
 * refused at once with 429, saying the limit and when one of its scrapes ends at the latest.
 * Each team's line is bounded on its own, so one team filling its line never refuses another's.
 */
export class ScrapeSlots {
  private inUse = 0;
  private grants = 0;
  private readonly teams = new Map<string, TeamLine>();

  constructor(
    readonly max: number,
    readonly maxPerTeam: number,
  ) {}

  /** Scrapes holding a slot now. */
  get running(): number {
    return this.inUse;
  }

  /** Scrapes waiting for one, all teams together. */
  get waiting(): number {
    let n = 0;
    for (const t of this.teams.values()) n += t.line.length;
    return n;
  }

  /** Slots the team holds now. */
  runningOf(team: string): number {
    return this.teams.get(team)?.running ?? 0;
  }

  /** The team's scrapes waiting for a slot. */
  waitingOf(team: string): number {
    return this.teams.get(team)?.line.length ?? 0;
  }

  /**
   * Takes a slot for the team, waiting for one if need be; returns the function that gives it
   * back (call it exactly once). Throws TOO_MANY_SCRAPES when the team has its most scrapes in
   * flight, or the deadline's error when it ends while waiting.
   */
  async acquire(team: string, deadline: Deadline): Promise<() => void> {
    deadline.check();
    const t = this.lineOf(team);
    if (t.inFlight.size >= this.maxPerTeam) {
      this.forgetIfIdle(team, t);
      throw this.tooMany(t);
    }
    const ticket = { endsAt: deadline.endsAt };
    t.inFlight.add(ticket);
    try {
      await this.take(team, t, deadline);
    } catch (err) {
      t.inFlight.delete(ticket);
      this.forgetIfIdle(team, t);
      throw err;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      t.inFlight.delete(ticket);
      this.release(team, t);
    };
  }

  private async take(team: string, t: TeamLine, deadline: Deadline): Promise<void> {
    // A slot is free only while nobody waits: every release hands its slot on to a waiter.
    if (this.inUse < this.max) {
      this.inUse++;
      t.running++;
      t.lastGrant = this.grants++;
      return;
    }
    const stage = deadline.stage;
    deadline.stage = "waiting for a free scrape slot";
    let waiter: Waiter | undefined;
    const granted = new Promise<void>((resolve) => {
      waiter = { grant: resolve };
      t.line.push(waiter);
    });
    try {
      await deadline.race(granted);
    } catch (err) {
      const i = t.line.indexOf(waiter!);
      // Still in line: leave. Already granted at the same moment: pass the slot on.
      if (i >= 0) t.line.splice(i, 1);
      else this.release(team, t);
      throw err;
    }
    deadline.stage = stage;
  }

  /** Hands the team's slot to the next waiter by the rule above, or frees it. */
  private release(team: string, t: TeamLine): void {
    t.running--;
    const next = this.nextTeam();
    if (next) {
      next.running++;
      next.lastGrant = this.grants++;
      next.line.shift()!.grant();
    } else {
      this.inUse--;
    }
    this.forgetIfIdle(team, t);
  }

  /** The waiting team holding the fewest slots; among equals, the one served least recently. */
  private nextTeam(): TeamLine | undefined {
    let best: TeamLine | undefined;
    for (const t of this.teams.values()) {
      if (t.line.length === 0) continue;
      if (
        !best ||
        t.running < best.running ||
        (t.running === best.running && t.lastGrant < best.lastGrant)
      ) {
        best = t;
      }
    }
    return best;
  }

  private lineOf(team: string): TeamLine {
    let t = this.teams.get(team);
    if (!t) {
      t = { running: 0, lastGrant: -1, line: [], inFlight: new Set() };
      this.teams.set(team, t);
    }
    return t;
  }

  /** A team with nothing in flight takes no room: the map holds only teams at work. */
  private forgetIfIdle(team: string, t: TeamLine): void {
    if (t.running === 0 && t.line.length === 0 && t.inFlight.size === 0) {
      if (this.teams.get(team) === t) this.teams.delete(team);
    }
  }

  /** The 429 for a team at its limit; Retry-After is when one of its scrapes ends at the latest. */
  private tooMany(t: TeamLine): AppError {
    let soonest = Infinity;
    for (const s of t.inFlight) soonest = Math.min(soonest, s.endsAt);
    const retryAfterSeconds = Math.max(1, Math.ceil((soonest - Date.now()) / 1000));
    const waiting = t.line.length;
    return new AppError(
      "TOO_MANY_SCRAPES",
      `${MESSAGES.tooManyScrapes} A team may have at most ${this.maxPerTeam} scrapes in flight ` +
        `(running or waiting for a slot; TEAM_MAX_SCRAPES), and this team has ` +
        `${t.running} running and ${waiting} waiting. Retry after ${retryAfterSeconds} s, when ` +
        `one of them will have ended.`,
      { limit: this.maxPerTeam, running: t.running, waiting },
      { retryAfterSeconds },
    );
  }
}

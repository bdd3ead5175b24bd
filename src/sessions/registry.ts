import { randomUUID } from "node:crypto";
import { hashToken } from "../auth/tokens.js";
import type {
  ClaimTerms,
  SessionClaim,
  SessionActivity,
  SessionClaimRequest,
  SessionQuery,
  SessionRecord,
  SessionRepository,
} from "../store/repositories.js";
import type { WriteRetry } from "../store/write-retry.js";

/**
 * Which sessions exist, on which node, and how they ended: the record every node shares. A
 * session's row is claimed before its browser is paid for, so two callers racing for one scrape
 * get one browser; tokens are kept only as digests.
 */
export class SessionRegistry {
  constructor(
    private readonly repo: SessionRepository,
    readonly nodeId: string,
    /** Where a release the database could not take waits until it can. */
    private readonly retry: WriteRetry,
  ) {}

  /**
   * Claims the scrape's session for this node, or returns whoever holds it; with terms, only
   * within the team's session limit and with its reservation taken, in one transaction.
   */
  claim(
    c: Omit<SessionClaimRequest, "id" | "nodeId" | "at"> & { id?: string },
    terms?: ClaimTerms,
  ): Promise<SessionClaim> {
    return this.repo.claim(
      { ...c, id: c.id ?? randomUUID(), nodeId: this.nodeId, at: Date.now() },
      terms,
    );
  }

  /**
   * The claimed session is live and reachable with these tokens (kept as digests: any node can
   * then find which node holds the session a token opens).
   */
  activate(
    id: string,
    tokens: { cdp: string; view: string; control: string },
    at: number,
  ): Promise<boolean> {
    return this.repo.activate(id, hashToken(tokens.cdp), at, {
      view: hashToken(tokens.view),
      control: hashToken(tokens.control),
    });
  }

  /**
   * Gives up a claim whose session never started: the scrape may be tried again, and what it
   * reserved comes back. Never fails: a database that cannot take it now takes it later, so a
   * claim made just before an outage holds no slot or credits beyond it.
   */
  async release(id: string): Promise<void> {
    const at = Date.now();
    await this.retry.run(`session-release:${id}`, () => this.repo.release(id, at));
  }

  /** The team's sessions, newest first, as the query asks. */
  list(teamId: string, query: SessionQuery): Promise<SessionRecord[]> {
    return this.repo.listOfTeam(teamId, query);
  }

  /** The team's sessions still starting or active, on every node. */
  liveOfTeam(teamId: string): Promise<SessionRecord[]> {
    return this.repo.liveOfTeam(teamId);
  }

  get(scrapeId: string): Promise<SessionRecord | undefined> {
    return this.repo.getByScrape(scrapeId);
  }

  /** Records the end, with what the session did; true only for the one call that ended it. */
  end(id: string, reason: string, at: number, activity?: SessionActivity): Promise<boolean> {
    return this.repo.end(id, reason, at, activity);
  }

  /** Records what a live session has done so far (kept after it ends), alive as of now. */
  recordActivity(id: string, activity: SessionActivity): Promise<void> {
    return this.repo.recordActivity(id, activity, Date.now());
  }

  /** Records that a recording of the session is kept. */
  markRecorded(id: string): Promise<void> {
    return this.repo.markRecorded(id);
  }

  /** Records that `count` more files the session's browser downloaded are kept. */
  countFile(id: string, count = 1): Promise<void> {
    return this.repo.countFile(id, count);
  }

  /**
   * Ends this node's sessions left starting or active by an earlier run, as of when each was
   * last seen alive; returns them.
   */
  endLeftovers(reason: string): Promise<SessionRecord[]> {
    return this.repo.endNode(this.nodeId, reason);
  }

  /**
   * Ends another node's sessions still starting or active (it was declared lost), as of when
   * each was last seen alive; returns the ones this call ended.
   */
  endOfNode(nodeId: string, reason: string): Promise<SessionRecord[]> {
    return this.repo.endNode(nodeId, reason);
  }

  /**
   * Ends the sessions still starting or active of every node declared lost at or before
   * `lostBefore`: the ones the node that declared it did not get to end.
   */
  endOfLostNodes(lostBefore: number, reason: string): Promise<SessionRecord[]> {
    return this.repo.endOfLostNodes(lostBefore, reason);
  }

  /** These sessions of this node (the ones alive here) are alive as of `at`. */
  heartbeat(at: number, sessionIds: readonly string[]): Promise<void> {
    return this.repo.markSeen(this.nodeId, at, sessionIds);
  }

  markUsedPrompt(id: string): Promise<void> {
    return this.repo.markUsedPrompt(id);
  }
}

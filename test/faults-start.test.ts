import { describe, expect, test } from "vitest";
import { openStore } from "../src/store/open.js";
import { startTestServer, tempDataDir } from "./helpers/server.js";
import { closeStoresAfterEach, STORE_KINDS } from "./helpers/stores.js";

closeStoresAfterEach();

describe.each(STORE_KINDS)("a start on $name", (kind) => {
  test("refunds, once, what an earlier run charged for scrapes that never finished", async () => {
    const env: Record<string, string> = {
      USE_DB_AUTHENTICATION: "true",
      ...(await kind.env()),
      DATA_DIR: tempDataDir(),
      NODE_ID: "node-f",
    };
    const store = await openStore({ dataDir: env.DATA_DIR!, databaseUrl: env.DATABASE_URL });
    const team = (await store.teams.create({ id: "team-f", name: "f", at: 1 }))!;
    await store.credits.grant(team.id, 10, "test", 1);
    const now = Date.now();
    const charge = (scrapeId: string, nodeId: string, at: number) =>
      store.credits.spend({
        teamId: team.id,
        amount: 1,
        scrapeId,
        nodeId,
        ref: `scrape:${scrapeId}`,
        note: "scrape",
        at,
      });
    // This node's earlier run was killed with one scrape charged and under way...
    await charge("own-dead", "node-f", now);
    // ...and one that finished and was stored.
    await charge("own-stored", "node-f", now);
    await store.scrapes.insert({
      id: "own-stored",
      teamId: team.id,
      url: "https://example.com/",
      finalUrl: "https://example.com/",
      statusCode: 200,
      zeroDataRetention: false,
      replayContext: null,
      createdAt: now,
      profile: null,
    });
    // Another node's, charged long ago and left open: that node died too.
    await charge("other-dead", "node-g", now - 20 * 60_000);
    // Another node's, charged just now: it may still be running there.
    await charge("other-running", "node-g", now);
    await store.close();

    for (let run = 0; run < 2; run++) {
      const server = await startTestServer(env);
      try {
        const refunds = (await server.services.store.credits.entries(team.id, 100))
          .filter((e) => e.kind === "refund")
          .map((e) => e.scrapeId)
          .sort();
        expect(refunds).toEqual(["other-dead", "own-dead"]);
        expect((await server.services.store.credits.balance(team.id)).available).toBe(8);
      } finally {
        await server.close();
      }
    }
  });
});

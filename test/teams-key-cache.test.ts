import { expect, test, vi } from "vitest";
import { openStore } from "../src/store/open.js";
import { TeamService } from "../src/teams/service.js";
import { startTestServer } from "./helpers/server.js";
import { makeTeam, teamClient } from "./helpers/team-client.js";

test("a key revoked by the admin command stops working within API_KEY_CACHE_SECONDS; through this server's own service, at once", async () => {
  const server = await startTestServer({
    USE_DB_AUTHENTICATION: "true",
    API_KEY_CACHE_SECONDS: "5",
  });
  const admin = await openStore({ dataDir: server.dataDir });
  try {
    const a = await makeTeam(server, "cache-a", 10);
    const b = await makeTeam(server, "cache-b", 10);
    const usage = async (key: string) => (await teamClient(server, key).credits()).status;
    expect(await usage(a.key)).toBe(200);
    // The admin command is another process, with its own connection to the same database.
    await new TeamService({ store: admin, maxSessions: 5 }).revokeKey(a.keyId);
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 4_000);
      expect(await usage(a.key)).toBe(200);
      vi.setSystemTime(Date.now() + 1_500);
      expect(await usage(a.key)).toBe(401);
    } finally {
      vi.useRealTimers();
    }
    expect(await usage(b.key)).toBe(200);
    await server.services.teams.revokeKey(b.keyId);
    expect(await usage(b.key)).toBe(401);
  } finally {
    await admin.close();
    await server.close();
  }
});

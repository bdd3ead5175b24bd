import { afterAll, beforeAll } from "vitest";
import type { FixtureSite } from "./fixture-site.js";
import { closeAll, startServerAndSite, type TestServer } from "./server.js";

/**
 * For a file (or describe) whose tests share a server and the fixture site: registers hooks that
 * start both before its tests, hand them to `started`, and close them after.
 */
export function useServerAndSite(
  started: (s: { server: TestServer; site: FixtureSite }) => void,
  env: Record<string, string> = {},
): void {
  let server: TestServer | undefined;
  let site: FixtureSite | undefined;
  beforeAll(async () => {
    [server, site] = await startServerAndSite(env);
    started({ server, site });
  });
  afterAll(() => closeAll(server, site));
}

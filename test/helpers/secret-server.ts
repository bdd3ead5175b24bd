import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { FixtureSite } from "./fixture-site.js";
import { scrapeId } from "./interact.js";
import { type TestServer, closeAll, startServerAndSite } from "./server.js";

export interface SecretServer {
  server: TestServer;
  site: FixtureSite;
  /** A scrape of the fixture site's home page. */
  id: string;
  /** Put in the server's environment (FC_TEST_SECRET) and in DATA_DIR/private.txt. */
  secret: string;
}

/**
 * For sandbox probes: registers hooks that start a server holding a secret where user code must
 * never find it (its environment and a file in DATA_DIR) and the fixture site, and a scrape to
 * interact with. The returned object is filled once the hooks ran.
 */
export function useSecretServer(env: Record<string, string> = {}): SecretServer {
  const ctx = { secret: "fc-secret-" + Math.random().toString(36).slice(2) } as SecretServer;
  beforeAll(async () => {
    process.env.FC_TEST_SECRET = ctx.secret;
    [ctx.server, ctx.site] = await startServerAndSite(env);
    fs.writeFileSync(path.join(ctx.server.dataDir, "private.txt"), ctx.secret);
    ctx.id = await scrapeId(ctx.server.url, { url: `${ctx.site.url}/` });
  });
  afterAll(async () => {
    await closeAll(ctx.server, ctx.site);
    delete process.env.FC_TEST_SECRET;
  });
  return ctx;
}

import path from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app.js";
import type { Config } from "./config/config.js";
import { profilesRoot } from "./browser/chromium-process.js";
import { findChromium } from "./browser/find-chromium.js";
import { reapOrphans } from "./browser/reaper.js";
import { SharedBrowser } from "./browser/shared-browser.js";
import { FileStore } from "./files/file-store.js";
import { LiveViewService } from "./liveview/service.js";
import { ScrapeService } from "./scrape/service.js";
import type { Services } from "./services.js";
import { openSqliteStore } from "./store/sqlite.js";

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  /** Base URL the server listens on, e.g. http://127.0.0.1:3002 */
  url: string;
  close(): Promise<void>;
}

/**
 * Opens the store, reaps what a killed predecessor left, wires the services and listens.
 * Everything started here is stopped by close().
 */
export async function startServer(config: Config): Promise<RunningServer> {
  const reaped = reapOrphans([profilesRoot(config.dataDir) + path.sep]);
  const store = await openSqliteStore(config.dataDir);
  // Chromium is looked up lazily so that a machine without it still serves /health and clear 503s.
  let chromium: string | undefined;
  const chromiumPath = () => (chromium ??= findChromium(config.chromiumPath));
  const browser = new SharedBrowser(chromiumPath, config.dataDir);
  const files = new FileStore(config.dataDir);
  const liveview = new LiveViewService();
  const services: Services = {
    config,
    store,
    files,
    scrapes: new ScrapeService({ config, store, files, browser }),
    liveview,
  };
  const app = buildApp(config, services);
  if (reaped > 0) app.log.warn({ reaped }, "killed processes left by an earlier run");
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      liveview.close();
      await app.close();
      await browser.close();
      await store.close();
    })());
  return { app, services, url: `http://${host}:${port}`, close };
}

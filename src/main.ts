import { ConfigError, loadConfig } from "./config/config.js";
import { startServer } from "./server.js";
import { startBanner } from "./startup/banner.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const server = await startServer(config);
  const banner = startBanner(server.services, server.url);
  server.app.log.info(banner.fields, banner.msg);

  let stopping = false;
  const exitWhen = (closed: Promise<void>) =>
    closed.then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  // SIGTERM (an orchestrator's stop) drains first when DRAIN_SECONDS allows: live sessions may
  // end on their own before the server closes. SIGINT (Ctrl-C) closes at once.
  const stop = (signal: string, drainMs: number) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info(`${signal}: ${drainMs > 0 ? "draining" : "shutting down"}`);
    const force = setTimeout(() => process.exit(1), drainMs + 15_000);
    force.unref();
    void exitWhen(drainMs > 0 ? server.services.drain.start() : server.close());
  };
  process.on("SIGTERM", () => stop("SIGTERM", config.drainMs));
  process.on("SIGINT", () => stop("SIGINT", 0));
  // A drain asked for through the nodes table (the admin command) closes the server too.
  void server.services.drain.finished.then(() => {
    if (!stopping) void exitWhen(server.close());
  });
}

main().catch((err) => {
  console.error("failed to start:", err instanceof Error ? err.message : err);
  process.exit(1);
});

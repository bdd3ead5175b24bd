import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts real browsers; a few at a time keeps a 2-core machine responsive.
    maxConcurrency: 1,
    fileParallelism: true,
    // A fork runs its files one after another on modules it loaded once: loading playwright-core,
    // Fastify and the rest again for every file took about a minute of CPU over a whole run
    // (whole suite measured here: 3 min 45 s isolated, 3 min 14 s not, under the same load).
    // Every file leaves nothing behind (servers closed, timers and environment restored).
    isolate: false,
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    pool: "forks",
  },
});

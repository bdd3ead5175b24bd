import { Writable } from "node:stream";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../errors/app-error.js";
import { registerErrorHandler } from "./error-handler.js";

/** A bare app with our error handler whose log lines are kept, parsed, for the test to read. */
function appWithLog(): { app: FastifyInstance; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const app = Fastify({ logger: { level: "info", stream } });
  registerErrorHandler(app);
  return { app, lines };
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe("the error handler and an error's cause", () => {
  it("logs the cause of a 5xx for the operator and never sends it to the client", async () => {
    const made = appWithLog();
    app = made.app;
    const cause = new Error("connect ECONNREFUSED 10.9.8.7:5432 (internal detail)");
    app.get("/fails", async () => {
      throw new AppError(
        "BROWSER_FAILED",
        "The browser failed while scraping example.com.",
        {
          host: "example.com",
        },
        { cause },
      );
    });
    const res = await app.inject({ url: "/fails" });

    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({
      success: false,
      code: "BROWSER_FAILED",
      error: "The browser failed while scraping example.com.",
      details: { host: "example.com" },
    });
    expect(res.body).not.toContain("ECONNREFUSED");
    expect(res.body).not.toContain("10.9.8.7");

    const failed = made.lines.find((l) => l.msg === "request failed");
    expect(failed?.err.message).toContain("ECONNREFUSED 10.9.8.7:5432");
    expect(failed?.err.stack).toContain("caused by: Error: connect ECONNREFUSED");
  });

  it("logs a cause that is not an Error too", async () => {
    const made = appWithLog();
    app = made.app;
    app.get("/fails", async () => {
      throw new AppError("INTERNAL", "The server failed.", undefined, {
        cause: { reason: "worker exited", exitCode: 134 },
      });
    });
    const res = await app.inject({ url: "/fails" });

    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain("worker exited");
    const failed = made.lines.find((l) => l.msg === "request failed");
    expect(failed?.cause).toEqual({ reason: "worker exited", exitCode: 134 });
  });

  it("keeps Retry-After beside the cause, and logs nothing for a client's mistake", async () => {
    const made = appWithLog();
    app = made.app;
    app.get("/busy", async () => {
      throw new AppError("TOO_MANY_SCRAPES", "Too many scrapes at once for this team.", undefined, {
        retryAfterSeconds: 7,
        cause: new Error("slot line full"),
      });
    });
    const res = await app.inject({ url: "/busy" });

    expect(res.statusCode).toBe(429);
    expect(res.headers["retry-after"]).toBe("7");
    expect(res.body).not.toContain("slot line full");
    expect(made.lines.find((l) => l.msg === "request failed")).toBeUndefined();
  });

  it("logs a target site's failure at info, without its stack: the caller's to fix", async () => {
    const made = appWithLog();
    app = made.app;
    app.get("/refused", async () => {
      throw new AppError(
        "SCRAPE_CONNECTION_FAILED",
        "Connection refused by 127.0.0.1:9.",
        undefined,
        {
          cause: new Error("net::ERR_CONNECTION_REFUSED"),
        },
      );
    });
    const res = await app.inject({ url: "/refused" });

    expect(res.statusCode).toBe(502);
    const line = made.lines.find((l) => l.code === "SCRAPE_CONNECTION_FAILED");
    expect(line).toMatchObject({ level: 30, msg: "Connection refused by 127.0.0.1:9." });
    expect(JSON.stringify(made.lines)).not.toContain("stack");
    expect(made.lines.filter((l) => l.level >= 40)).toEqual([]);
  });
});

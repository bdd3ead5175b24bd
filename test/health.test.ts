import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

test("GET /health answers 200 once the server is up", async () => {
  const res = await fetch(`${server.url}/health`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({
    status: "ok",
    database: "sqlite",
    authentication: false,
  });
});

test("unknown routes answer a JSON 404", async () => {
  const res = await fetch(`${server.url}/v2/nope`);
  expect(res.status).toBe(404);
  expect(await res.json()).toMatchObject({ success: false });
});

import Fastify, { type FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError } from "../errors/app-error.js";
import { routeDoc } from "../openapi/route-doc.js";
import { registerErrorHandler } from "./error-handler.js";
import { registerResponseCheck } from "./response-check.js";
import { serializerCompiler, validatorCompiler } from "./validate.js";

const idSchema = z
  .string()
  .uuid("Invalid thing ID.")
  .transform((id) => id.toLowerCase());

const answer = z.object({ success: z.literal(true), id: z.string(), size: z.number().optional() });

/** A bare app wired as the server wires its routes, with one route whose answer a test picks. */
function app(opts: { check: boolean; send: (id: string) => unknown }) {
  const app = Fastify().withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  if (opts.check) registerResponseCheck(app);
  registerErrorHandler(app);
  const doc = routeDoc({
    access: "public",
    operationId: "thing",
    summary: "A thing",
    tags: ["Team"],
    params: z.object({ id: idSchema }),
    query: z.object({ full: z.enum(["yes", "no"]).optional() }).strict(),
    body: z
      .object({ size: z.number().int().min(1) })
      .strict()
      .default({ size: 1 }),
    response: { description: "The thing.", schema: answer },
    errors: ["NOT_FOUND"],
  });
  app.post("/things/:id", doc, async (req) => opts.send(req.params.id) as never);
  return app;
}

let running: FastifyInstance | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

const ID = "0D1A3C9E-0000-4000-8000-000000000000";
const post = (a: FastifyInstance, url: string, payload?: object) =>
  payload === undefined
    ? a.inject({ method: "POST", url })
    : a.inject({ method: "POST", url, payload });

describe("a route's schemas validate its input", () => {
  it("hands the handler the parsed values: transformed params, the body's default", async () => {
    let seen: unknown;
    running = app({ check: false, send: (id) => ((seen = id), { success: true, id }) });
    const res = await post(running, `/things/${ID}`);
    expect(res.statusCode).toBe(200);
    expect(seen).toBe(ID.toLowerCase());
  });

  it("refuses a path parameter with its schema's own message, and no details", async () => {
    running = app({ check: false, send: (id) => ({ success: true, id }) });
    const res = await post(running, "/things/nope", { size: 2 });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ success: false, code: "BAD_REQUEST", error: "Invalid thing ID." });
  });

  it("refuses a body that is not a JSON object, whatever its schema", async () => {
    running = app({ check: false, send: (id) => ({ success: true, id }) });
    for (const payload of [[1], "text", 5]) {
      const res = await running.inject({
        method: "POST",
        url: `/things/${ID}`,
        headers: { "content-type": "application/json" },
        payload: JSON.stringify(payload),
      });
      expect(res.json(), JSON.stringify(payload)).toEqual({
        success: false,
        code: "BAD_REQUEST",
        error: "Bad Request: the body must be a JSON object.",
      });
    }
  });

  it("lists each problem of a body or query as {path, message}", async () => {
    running = app({ check: false, send: (id) => ({ success: true, id }) });
    const body = await post(running, `/things/${ID}`, { size: 0, colour: "red" });
    expect(body.statusCode).toBe(400);
    expect(body.json().details).toEqual([
      { path: "size", message: "Number must be greater than or equal to 1" },
      { path: "", message: "Unrecognized key(s) in object: 'colour'" },
    ]);
    expect(body.json().error).toBe(
      "Bad Request: size: Number must be greater than or equal to 1; body: Unrecognized key(s) in object: 'colour'",
    );
    const query = await post(running, `/things/${ID}?full=maybe`, { size: 1 });
    expect(query.statusCode).toBe(400);
    expect(query.json().details.map((d: { path: string }) => d.path)).toEqual(["full"]);
  });
});

describe("answers against the route's contract (CHECK_RESPONSES)", () => {
  it("passes an answer that matches, and sends it as it is", async () => {
    running = app({ check: true, send: (id) => ({ success: true, id, size: 3 }) });
    const res = await post(running, `/things/${ID}`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(JSON.stringify({ success: true, id: ID.toLowerCase(), size: 3 }));
  });

  it.each([
    ["a field of the wrong type", { success: true, id: 5 }, "id: Expected string"],
    ["a missing field", { success: true }, "id: Required"],
    ["a field the schema does not name", { success: true, id: "x", extra: 1 }, "extra"],
  ])("turns %s into a 500 naming it", async (_name, sent, problem) => {
    running = app({ check: true, send: () => sent });
    const res = await post(running, `/things/${ID}`);
    expect(res.statusCode).toBe(500);
    expect(res.json().code).toBe("INTERNAL");
    expect(res.json().error).toContain("POST /things/:id answered 200 off its contract");
    expect(res.json().error).toContain(problem);
  });

  it("holds errors to the codes the route declares, at their status", async () => {
    const declared = app({
      check: true,
      send: () => {
        throw new AppError("NOT_FOUND", "No such thing.");
      },
    });
    running = declared;
    expect((await post(declared, `/things/${ID}`)).statusCode).toBe(404);
    await declared.close();

    running = app({
      check: true,
      send: () => {
        throw new AppError("TOO_MANY_CALLS", "Slow down.");
      },
    });
    const undeclared = await post(running, `/things/${ID}`);
    expect(undeclared.statusCode).toBe(500);
    expect(undeclared.json().error).toContain("code TOO_MANY_CALLS is not among the route's");
  });

  it("without the check, an answer off its schema goes out untouched", async () => {
    running = app({ check: false, send: () => ({ success: true, id: 5, extra: 1 }) });
    const res = await post(running, `/things/${ID}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ success: true, id: 5, extra: 1 });
  });
});

import type { FastifyInstance, FastifyRequest } from "fastify";

/** Requests being answered now; a draining server waits for them before it closes. */
export class RequestsInFlight {
  private n = 0;

  get count(): number {
    return this.n;
  }

  /** Counts every request from its arrival until its answer is sent or its client leaves. */
  register(app: FastifyInstance): void {
    const counted = new WeakSet<FastifyRequest>();
    const done = async (req: FastifyRequest) => {
      if (counted.delete(req)) this.n--;
    };
    app.addHook("onRequest", async (req) => {
      counted.add(req);
      this.n++;
    });
    app.addHook("onResponse", done);
    app.addHook("onRequestAbort", done);
  }
}

import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * Runs `work` with a signal that aborts when the client closes the connection before it was
 * answered (as scrape's route does): a call still waiting its turn then never runs. If the work
 * fails because of that, nobody is left to answer, and the reply is dropped.
 */
export async function whileClientWaits<T>(
  req: FastifyRequest,
  reply: FastifyReply,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T | FastifyReply> {
  const abort = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableEnded) abort.abort();
  };
  reply.raw.once("close", onClose);
  try {
    return await work(abort.signal);
  } catch (err) {
    if (!abort.signal.aborted) throw err;
    req.log.info("client closed the connection; its call was dropped");
    return reply.hijack();
  } finally {
    reply.raw.off("close", onClose);
  }
}

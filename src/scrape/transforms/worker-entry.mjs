// The first code a pool worker runs (worker-pool.ts). Plain JavaScript, so that Node loads it
// whatever started the server: `tsx src/main.ts`, `node --import tsx`, vitest, any Node from 20
// on. It puts tsx's loader in this thread, then imports the TypeScript module named in
// workerData, whose default export handles one task at a time.
import { parentPort, workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
const { default: handle } = await import(workerData.module);

parentPort.on("message", async ({ id, input }) => {
  try {
    parentPort.postMessage({ id, ok: true, output: await handle(input) });
  } catch (err) {
    const { name, message } = err instanceof Error ? err : { name: "Error", message: String(err) };
    parentPort.postMessage({ id, ok: false, name, message });
  }
});
// Tasks are sent once the module is loaded: a task's time limit counts its own work only.
parentPort.postMessage({ ready: true });

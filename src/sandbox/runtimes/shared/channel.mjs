// The runner side of the sandbox protocol, for runners written for Node: newline-delimited JSON
// requests arrive on fd 3 and answers go back there (fd 3 rather than stdin/stdout, so that a
// child process with inherited stdio cannot garble the protocol). The first line out is
// {op:"ready"}; requests are handled one at a time, in order; the server closing the channel
// means it is done with the runner.
import net from "node:net";

/**
 * Serves requests with `handle` until the server hangs up.
 * @param {(req: any, send: (msg: object) => void) => Promise<void>} handle
 */
export function serveChannel(handle) {
  const channel = new net.Socket({ fd: 3, readable: true, writable: true });
  const send = (msg) => channel.write(`${JSON.stringify(msg)}\n`);
  let queue = Promise.resolve();
  let pending = "";
  channel.setEncoding("utf8");
  channel.on("data", (chunk) => {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.trim()) continue;
      let req;
      try {
        req = JSON.parse(line);
      } catch {
        continue;
      }
      queue = queue.then(() => handle(req, send)).catch(() => {});
    }
  });
  channel.on("end", () => process.exit(0));
  channel.on("error", () => process.exit(0));
  send({ op: "ready" });
}

import type { ChildProcess } from "node:child_process";
import type net from "node:net";

/** The spawn stdio index of the IPC channel a listener is handed over. */
export const HANDOFF_FD = 5;

/**
 * A command prefix for inside a network namespace of its own: a one-shot Node helper listens on
 * `port` of the namespace's loopback and passes the listening socket to the server over the IPC
 * channel at fd 5, then exits; the real command runs with fd 5 closed. The socket stays in the
 * namespace, so what connects to it there arrives at the server, and no process of ours stays
 * inside. Put it right after bubblewrap's `--`, followed by the command.
 */
export function handoffPrefix(nodePath: string, port: number, name: string): string[] {
  const helper = [
    `const s = require("net").createServer();`,
    `s.listen(${port}, "127.0.0.1", () =>`,
    `process.send(${JSON.stringify(name)}, s, () => { s.close(); process.disconnect(); }));`,
  ].join(" ");
  // In a subshell, so the helper is the pid namespace init's child (which reaps it) rather than
  // the command's, which may never collect it. Only the helper is told where its IPC channel is
  // (a cleared environment would not say), and the command never gets the descriptor.
  const channel = `NODE_CHANNEL_FD=${HANDOFF_FD}`;
  return [
    "/bin/sh",
    "-c",
    `(${channel} "$0" -e '${helper}' &); exec "$@" ${HANDOFF_FD}>&-`,
    nodePath,
  ];
}

/** The listening socket a handoffPrefix helper sends; rejects if the process ends first. */
export function receiveListener(child: ChildProcess, what: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    child.once("message", (_msg, handle) => {
      child.disconnect?.();
      if (handle && "listen" in handle) resolve(handle as net.Server);
      else reject(new Error(`${what} was not handed out`));
    });
    child.once("exit", () => reject(new Error(`the process exited before ${what} was handed out`)));
  });
}

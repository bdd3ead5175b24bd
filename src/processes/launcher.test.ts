import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { systemMounts, tryFindOnHost } from "../isolation/host.js";
import { launchProcess } from "./launcher.js";
import { allPids, commandLine, isRunning } from "./process-table.js";

const SH = "/bin/sh";
const ENV = { PATH: "/usr/bin:/bin" };

/** Pids of running processes whose command line is exactly `argv`. */
function running(argv: string[]): number[] {
  const want = argv.join("\0") + "\0";
  return allPids().filter((pid) => commandLine(pid) === want && isRunning(pid));
}

/** Waits until each of `argvs` runs; returns their pids. */
async function started(argvs: string[][]): Promise<number[]> {
  await expect
    .poll(() => argvs.every((a) => running(a).length > 0), { timeout: 10_000 })
    .toBe(true);
  return argvs.flatMap(running);
}

const tag = () => String(1000 + Math.floor(Math.random() * 8000));

test("kill() takes the group, children that left it and marked strays, and waits for them", async () => {
  const t = tag();
  const marker = `fc-test-marker-${t}`;
  const proc = launchProcess({
    name: "tree",
    file: SH,
    // A child in the group, one that left it (setsid), and one that left the tree as well,
    // found only by the marker on its command line (as Chromium's crash handler).
    args: [
      "-c",
      `sleep ${t}1 & setsid sleep ${t}2 & (setsid ${SH} -c "sleep ${t}3; true" ${marker} &); wait`,
    ],
    env: ENV,
    markers: [marker],
  });
  const pids = await started([
    ["sleep", `${t}1`],
    ["sleep", `${t}2`],
    ["sleep", `${t}3`],
  ]);
  await proc.kill();
  expect(pids.filter((p) => isRunning(p))).toEqual([]);
  expect(proc.exitStatus).toEqual({ code: null, signal: "SIGKILL" });
  await proc.exited;
});

test.runIf(tryFindOnHost("bwrap"))(
  "kill() waits for a bubblewrap jail's processes, in a session and pid namespace of their own",
  async () => {
    const t = tag();
    const proc = launchProcess({
      name: "jail",
      file: tryFindOnHost("bwrap")!,
      args: [
        "--die-with-parent",
        "--new-session",
        "--unshare-user",
        "--unshare-pid",
        ...systemMounts(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--",
        SH,
        "-c",
        `sleep ${t}4 & sleep ${t}5 & wait`,
      ],
      env: ENV,
    });
    const pids = await started([
      ["sleep", `${t}4`],
      ["sleep", `${t}5`],
    ]);
    await proc.kill();
    expect(pids.filter((p) => isRunning(p))).toEqual([]);
  },
);

test("output is logged line by line, up to a budget, and its end is kept", async () => {
  const lines: string[] = [];
  // The flood waits until both first lines were logged: stdout and stderr are read apart, and
  // a flood on one could otherwise use up the budget before the other's line is read.
  const go = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fc-talker-")), "go");
  const proc = launchProcess({
    name: "talker",
    file: SH,
    args: [
      "-c",
      `echo one; echo two >&2; until [ -e ${go} ]; do sleep 0.01; done; yes 0123456789 | head -c 100000`,
    ],
    env: ENV,
    log: { info: (_o, line) => lines.push(line) },
    logBudgetChars: 1_000,
    tailChars: 100,
  });
  await expect.poll(() => lines.length).toBe(2);
  fs.writeFileSync(go, "");
  await proc.exited;
  fs.rmSync(path.dirname(go), { recursive: true, force: true });
  // The pipes may still be draining after the exit.
  const over = /more output than 1000 characters; the rest is not logged/;
  await expect.poll(() => lines.some((l) => over.test(l))).toBe(true);
  expect(lines).toContain(`talker[${proc.pid}][out]: one`);
  expect(lines).toContain(`talker[${proc.pid}][err]: two`);
  expect(lines.at(-1)).toMatch(over);
  expect(lines.length).toBeLessThan(200); // of some 9,000 it printed
  expect(proc.output.tail.length).toBeLessThanOrEqual(100);
  expect(proc.exitStatus).toEqual({ code: 0, signal: null });
});

test("a program that does not exist ends at once, saying why", async () => {
  const proc = launchProcess({ name: "missing", file: "/nonexistent/x", args: [], env: ENV });
  expect(await proc.exited).toEqual({ code: null, signal: null });
  expect(proc.output.tail).toMatch(/could not start \/nonexistent\/x: .*ENOENT/);
  await proc.kill(); // harmless
});

test("when the server process exits, everything it launched is killed with it", async () => {
  const t = tag();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fc-launcher-"));
  const launcher = fileURLToPath(new URL("./launcher.ts", import.meta.url));
  const script = path.join(dir, "server.ts");
  fs.writeFileSync(
    script,
    `import { launchProcess } from ${JSON.stringify(launcher)};
launchProcess({ name: "a", file: "/bin/sh", args: ["-c", "setsid sleep ${t}6 & sleep ${t}7"], env: {} });
setTimeout(() => process.exit(0), 1_500);
`,
  );
  try {
    const server = spawn(process.execPath, ["--import", "tsx", script], { stdio: "ignore" });
    const pids = await started([
      ["sleep", `${t}6`],
      ["sleep", `${t}7`],
    ]);
    await new Promise((r) => server.once("exit", r));
    await expect.poll(() => pids.filter((p) => isRunning(p)), { timeout: 2_000 }).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

import fs from "node:fs";
import path from "node:path";
import { findChromium } from "../../src/chromium/find-chromium.js";
import { BrowserLauncher } from "../../src/chromium/launcher.js";
import { tryFindOnHost } from "../../src/isolation/host.js";
import { EgressProxy, type EgressProxyOptions } from "../../src/network/egress-proxy.js";
import { groupMembers } from "../../src/processes/process-table.js";

/**
 * A launcher as the server builds one: jailed browsers (bubblewrap is a test prerequisite),
 * CDP over pipes, traffic through an egress proxy with `isBlocked` as its policy (none by default).
 * Its folders live under a short temp folder, for unix socket paths.
 */
export function testLauncher(
  opts: { isBlocked?: EgressProxyOptions["isBlocked"]; storageMb?: number; jail?: boolean } = {},
): BrowserLauncher {
  const root = fs.mkdtempSync("/tmp/fcb-");
  fs.chmodSync(root, 0o711);
  process.once("exit", () => fs.rmSync(root, { recursive: true, force: true }));
  return new BrowserLauncher({
    chromiumPath: () => findChromium(undefined),
    jail:
      opts.jail === false
        ? undefined
        : {
            bwrapPath: tryFindOnHost("bwrap")!,
            nodePath: fs.realpathSync(process.execPath),
            storageBytes: (opts.storageMb ?? 256) * 1024 * 1024,
            marker: root + path.sep,
          },
    profilesRoot: path.join(root, "profiles"),
    socketDir: path.join(root, "cdp"),
    artifactsRoot: path.join(root, "artifacts"),
    egress: EgressProxy.create({ isBlocked: opts.isBlocked ?? (() => undefined) }),
  });
}

/** Live (not zombie) processes of a process group: a browser and everything it started. */
export const groupPids = groupMembers;

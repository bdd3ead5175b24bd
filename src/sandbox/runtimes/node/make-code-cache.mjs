// Makes the runners' code cache (code-cache.mjs): loads Playwright from <playwright-core folder>
// as a runner does, and writes the compiled code of its bundles to <out folder>, whole or not at
// all (a temporary folder renamed into place). Run by the server with the runners' node flags.
//
// Usage: node <runner flags> make-code-cache.mjs <playwright-core folder> <out folder>
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { installCodeCache } from "./code-cache.mjs";

const [playwrightDir, outDir] = process.argv.slice(2);
const compiled = installCodeCache(outDir, "record");
createRequire(import.meta.url)(path.resolve(playwrightDir));
const partial = `${outDir}.${process.pid}.partial`;
fs.mkdirSync(partial, { recursive: true });
// Readable by the runners' unprivileged users, whatever the server's umask.
fs.chmodSync(partial, 0o755);
for (const [name, script] of compiled()) {
  const file = path.join(partial, `${name}.v8`);
  fs.writeFileSync(file, script.createCachedData());
  fs.chmodSync(file, 0o644);
}
fs.renameSync(partial, outDir);

// V8's compiled code for Playwright's two large bundles, so that a new runner does not parse and
// compile 6 MB of JavaScript again (about 100 ms of its start). The server makes it once per
// start with the runners' own node flags (V8 refuses a cache made under other flags, or for
// other source) and stages it read-only beside the runner: `make-code-cache.mjs`. Without it,
// or when V8 refuses it, modules compile as usual.
import fs from "node:fs";
import Module from "node:module";
import path from "node:path";
import vm from "node:vm";

/** Playwright's bundles, by file name: nearly all of its code. */
export const BUNDLES = ["coreBundle.js", "utilsBundle.js"];

/**
 * Compiles the bundles with their cached code from `dir` when there is one (mode "use"), or
 * compiles them so that their code can be saved (mode "record"). Returns the bundles compiled
 * so far: file name and script (`createCachedData()` to save it, `cachedDataRejected` to see
 * whether V8 took the cache).
 * @param {string} dir
 * @param {"use" | "record"} mode
 * @returns {() => [string, vm.Script][]}
 */
export function installCodeCache(dir, mode) {
  /** @type {[string, vm.Script][]} */
  const compiled = [];
  if (mode === "use" && !fs.existsSync(dir)) return () => compiled;
  const compile = Module.prototype._compile;
  Module.prototype._compile = function compileBundle(content, filename) {
    return compileWith(this, content, filename);
  };
  /** @param {Module} module @param {string} content @param {string} filename */
  function compileWith(module, content, filename) {
    const name = path.basename(filename);
    if (!BUNDLES.includes(name)) return compile.call(module, content, filename);
    let cachedData;
    if (mode === "use") {
      try {
        cachedData = fs.readFileSync(path.join(dir, `${name}.v8`));
      } catch {
        return compile.call(module, content, filename);
      }
    }
    const script = new vm.Script(Module.wrap(content), { filename, cachedData });
    compiled.push([name, script]);
    const require = (id) => module.require(id);
    require.resolve = (request, options) =>
      Module._resolveFilename(request, module, false, options);
    require.cache = Module._cache;
    const wrapper = script.runInThisContext({ displayErrors: true });
    return wrapper.call(
      module.exports,
      module.exports,
      require,
      module,
      filename,
      path.dirname(filename),
    );
  }
  return () => [...compiled];
}

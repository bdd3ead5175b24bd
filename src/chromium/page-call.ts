/**
 * Builds a page.evaluate expression that calls `fn(arg)`. Functions are sent as source text;
 * tsx (esbuild with keepNames) rewrites nested functions to call a `__name` helper that does not
 * exist in the page, so the wrapper defines a harmless one in the call's own scope.
 */
export function pageCall<A>(fn: (arg: A) => unknown, arg: A): string {
  return `(() => { const __name = (f) => f; return (${fn.toString()})(${JSON.stringify(arg)}); })()`;
}

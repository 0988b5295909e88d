/**
 * The file of the function that calls this one, as the runtime loaded it: `…/dist/esm/x.js`,
 * `…/dist/cjs/x.js`, or `…/src/x.ts` under tsx. Read from V8's call sites, not from a stack
 * string, because with `--enable-source-maps` stack strings name the `.ts` sources the maps point
 * at, which are not what runs. Works in both builds (`import.meta` cannot appear in the
 * CommonJS one, `__filename` does not exist in the ESM one). Undefined if the call sites cannot
 * be read (a replaced `Error.prepareStackTrace` that hides file names). A `file://` URL in the
 * ESM build, a path in the CommonJS one.
 */
export function moduleFile(): string | undefined {
  // Saved to be put back as it was, never called here.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 1;
    Error.prepareStackTrace = (_error, sites) => {
      const site = sites[0];
      return site === undefined ? undefined : site.getFileName();
    };
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, moduleFile);
    return typeof holder.stack === "string" && holder.stack !== "" ? holder.stack : undefined;
  } catch {
    return undefined;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

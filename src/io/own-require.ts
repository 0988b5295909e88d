import { createRequire } from "node:module";

/**
 * A `require` that resolves from timebound's own folder, in the ESM build as in the CommonJS
 * one: `import.meta` cannot appear in the CommonJS build and `__filename` does not exist in
 * the ESM one, so the file comes from this function's own stack frame (V8's call sites, not a
 * parsed string). Undefined if that cannot be read (a replaced `Error.prepareStackTrace` that
 * hides file names); callers then fall back to `import()`.
 */
export function ownRequire(): NodeJS.Require | undefined {
  const file = ownFile();
  return file === undefined ? undefined : createRequire(file);
}

function ownFile(): string | undefined {
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
    Error.captureStackTrace(holder);
    return typeof holder.stack === "string" && holder.stack !== "" ? holder.stack : undefined;
  } catch {
    return undefined;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

/**
 * Whether contexts record where they were created. Off by default: capturing a stack costs
 * more than creating a context, so only diagnostics turns it on.
 */
export const tracking = { enabled: false };

/**
 * Turns recording of creation sites on or off for contexts created from now on. Diagnostics
 * (`timebound/register`, `TIMEBOUND_TRACK=1`) calls this; applications rarely need to.
 *
 * @example
 * ```ts
 * setTracking(true);
 * const ctx = withCancel(background());
 * explain(ctx).context.site; // "src/server.ts:42:15"
 * ```
 */
export function setTracking(enabled: boolean): void {
  if (typeof enabled !== "boolean") {
    throw new TypeError(`setTracking: expected a boolean, got ${typeof enabled}`);
  }
  tracking.enabled = enabled;
}

/** A captured call stack; V8 formats it only when `stack` is first read. */
export interface CreationSite {
  readonly stack?: string;
}

/** Captures the caller's stack, omitting frames above and including `below`. */
export function captureSite(below: (...args: never[]) => unknown): CreationSite {
  const site: { stack?: string } = {};
  Error.captureStackTrace(site, below);
  return site;
}

/** The folder holding timebound's modules (`src/` or `dist/esm/`), found from this file's own frame. */
const ownRoot = ((): string | undefined => {
  const frame = new Error().stack?.split("\n")[1] ?? "";
  const file = /\(?((?:file:\/\/)?[^()]+?):\d+:\d+\)?$/.exec(frame.trim())?.[1];
  return file?.replace(/core[\\/][^\\/]+$/, "");
})();

/** The first frame of a creation stack that is not timebound's own, as `file:line:col`. */
export function siteLocation(site: CreationSite | undefined): string | undefined {
  const stack = site?.stack;
  if (stack === undefined) return undefined;
  for (const line of stack.split("\n").slice(1)) {
    const frame = line.trim();
    if ((ownRoot !== undefined && frame.includes(ownRoot)) || frame.includes("node:")) continue;
    const m = /\(([^()]+)\)$/.exec(frame) ?? /^at (.+)$/.exec(frame);
    if (m?.[1] !== undefined) return m[1].replace(/^file:\/\//, "");
  }
  return undefined;
}

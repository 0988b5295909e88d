// Where contexts were created: a stack captured at creation, only while someone asked for it.
import { checkBoolean } from "./validate.js";

/**
 * Whether contexts record where they were created. Off by default: capturing a stack costs
 * more than creating a context, so only diagnostics turns it on.
 */
export const siteCapture = { enabled: false };

/**
 * Turns recording of creation sites on or off for contexts created from now on: their errors
 * then have stack frames and an `originSite`, and `explain()` names where they were made.
 * Diagnostics (`timebound/register`, `TIMEBOUND_TRACK=1`) calls this; applications rarely need to.
 *
 * @example
 * ```ts
 * captureCreationSites(true);
 * const ctx = withCancel(background());
 * explain(ctx).context.site; // "src/server.ts:42:15"
 * ```
 */
export function captureCreationSites(enabled: boolean): void {
  siteCapture.enabled = checkBoolean(enabled, "captureCreationSites", "enabled");
}

/**
 * @deprecated The old name of {@link captureCreationSites} ("tracking" is what diagnostics
 * does; this only records where contexts are created).
 *
 * @example
 * ```ts
 * setTracking(true); // captureCreationSites(true)
 * ```
 */
export function setTracking(enabled: boolean): void {
  siteCapture.enabled = checkBoolean(enabled, "setTracking", "enabled");
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

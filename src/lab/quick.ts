// The whole lab's quick run (LabOptions.quick): the scenarios that drive load for seconds per
// variant shorten themselves so that `timebound lab` with no options stays near a minute, and
// say how to get their full-size run.
import { formatMs } from "./format.js";
import { DEFAULT_LAB_OPTIONS, type LabOptions } from "./options.js";

/** @internal The scenarios that run shortened in the quick run, by id (for the lab's help). */
export const QUICK_RUN_SCENARIOS: readonly string[] = [
  "pg-query",
  "redis-blocking",
  "three-tier",
  "fan-out",
  "gateway",
];

/**
 * @internal The scale a load-driving scenario runs at: `options.scale`, but at most `quickScale`
 * in the quick run.
 *
 * @example
 * ```ts
 * loadScale({ requests: 1, scale: 0.25, quick: true }, 0.15); // 0.15
 * loadScale({ requests: 1, scale: 0.25 }, 0.15); // 0.25
 * ```
 */
export function loadScale(options: LabOptions, quickScale: number): number {
  return options.quick === true ? Math.min(options.scale, quickScale) : options.scale;
}

/**
 * @internal How to get the full-size run of scenario `id`, whose runs last `msAt(scale)`:
 * `--only <id>` (the default scale) or `--scale 1`.
 *
 * @example
 * ```ts
 * fullRunHint("gateway", (s) => 16_000 * s);
 * // "`timebound lab --only gateway` runs 4,000 ms per variant, `--scale 1` 16,000 ms"
 * ```
 */
export function fullRunHint(id: string, msAt: (scale: number) => number): string {
  return (
    `\`timebound lab --only ${id}\` runs ${formatMs(msAt(DEFAULT_LAB_OPTIONS.scale))} per variant, ` +
    `\`--scale 1\` ${formatMs(msAt(1))}`
  );
}

/**
 * @internal "times scaled by x0.25" for a scenario that scales all its times, and in the quick
 * run, when `scale` is below the options', which scale `--only <id>` would use.
 *
 * @example
 * ```ts
 * scaleText("pg-query", { requests: 1, scale: 0.25, quick: true }, 0.15);
 * // "times scaled by x0.15: the whole lab's quick run; `timebound lab --only pg-query` runs x0.25"
 * ```
 */
export function scaleText(id: string, options: LabOptions, scale: number): string {
  return scale < options.scale
    ? `times scaled by x${scale}: the whole lab's quick run; ` +
        `\`timebound lab --only ${id}\` runs x${options.scale}`
    : `times scaled by x${scale}`;
}

import { performance } from "node:perf_hooks";

/**
 * Monotonic milliseconds since process start (`performance.now()`).
 *
 * Every deadline inside timebound is on this clock, so a wall-clock jump (NTP, a VM resume,
 * someone running `date -s`) can neither fire a deadline early nor keep one from firing.
 *
 * @example
 * ```ts
 * const ctx = withDeadline(background(), now() + 250);
 * ```
 */
export function now(): number {
  return performance.now();
}

// The three-tier scenario's load: what autocannon itself counted (the service keeps its own log of
// every request).
import { type Autocannon, type LoadPlan, driveSlices } from "./autocannon-slices.js";

/** @internal What the load generator itself saw. */
export interface LoadResult {
  /** Requests it sent. */
  readonly sent: number;
  /** Requests it gave up on at `clientTimeoutMs`. */
  readonly timeouts: number;
}

/**
 * @internal Sends `plan.rate` requests a second for `plan.durationMs`. When answers are slow
 * autocannon sends less than asked: `sent` says what it managed.
 */
export async function drive(autocannon: Autocannon, plan: LoadPlan): Promise<LoadResult> {
  const results = await driveSlices(autocannon, plan);
  return {
    sent: results.reduce((n, r) => n + r.requests.sent, 0),
    timeouts: results.reduce((n, r) => n + r.timeouts, 0),
  };
}

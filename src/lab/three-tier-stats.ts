// The three-tier scenario's figures, computed from the service's log of requests: the seed's
// table (mean, P99, error rate) plus max latency, the share a fallback answered, and how long the
// service took to get back to normal after the upstream's outage.
import type { RequestRecord } from "./three-tier-service.js";

/** @internal A variant's figures. */
export interface TierFigures {
  readonly requests: number;
  readonly meanMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Whether the max is a lower bound (a request was still open at the stop). */
  readonly maxOpen: boolean;
  /** Share of requests that got no answer (error status, client gave up, still open). */
  readonly errorRate: number;
  /** Share answered by a fallback (cache or default). */
  readonly fallbackShare: number;
  /**
   * From the outage's end to the start of the first window in which the share of requests the
   * upstream answered was back to the level before the outage (see {@link RECOVERY_SLACK});
   * null: not within the run.
   */
  readonly recoveryMs: number | null;
  /** Share the upstream answered before the outage: what "recovered" is measured against. */
  readonly freshBefore: number;
}

/** @internal "Back to normal" is a fresh share no more than 5 percentage points under the level before the outage. */
export const RECOVERY_SLACK = 0.05;

/** @internal When the outage was, in the records' clock, and the windows recovery is judged in. */
export interface Timeline {
  readonly outageFromMs: number;
  readonly outageToMs: number;
  readonly windowMs: number;
  /** The end of the load: windows reaching past it are not judged. */
  readonly endMs: number;
}

/**
 * @internal A request still waiting when the load stopped counts (as an error, its wait so far as
 * its latency) if it had waited this long: no variant that answers at all answers later than
 * this, so it was failing. One that had waited less is left out: its outcome is unknown.
 */
export const CUT_COUNTS_AFTER_MS = 1_000;

/** @internal The figures of `all` (the records of one run). */
export function tierFigures(all: readonly RequestRecord[], t: Timeline): TierFigures {
  const records = all.filter((r) => !r.open || r.endMs - r.startMs >= CUT_COUNTS_AFTER_MS);
  const n = records.length;
  const latencies = records.map((r) => r.endMs - r.startMs).sort((a, b) => a - b);
  const count = (o: RequestRecord["outcome"]): number =>
    records.filter((r) => r.outcome === o).length;
  const maxMs = latencies[n - 1] ?? 0;
  // Before the outage, less a window: requests sent just before it are caught by it.
  const freshBefore = freshShare(records, 0, Math.max(t.windowMs, t.outageFromMs - t.windowMs));
  return {
    requests: n,
    meanMs: n === 0 ? 0 : latencies.reduce((a, b) => a + b, 0) / n,
    p99Ms: n === 0 ? 0 : latencies[Math.min(n - 1, Math.ceil(n * 0.99) - 1)]!,
    maxMs,
    maxOpen: records.some((r) => r.open && r.endMs - r.startMs >= maxMs),
    errorRate: n === 0 ? 0 : count("error") / n,
    fallbackShare: n === 0 ? 0 : count("fallback") / n,
    recoveryMs: recovery(records, t, freshBefore),
    freshBefore,
  };
}

/** Share of the requests that arrived in [from, to) that the upstream answered; NaN if none. */
function freshShare(records: readonly RequestRecord[], from: number, to: number): number {
  let all = 0;
  let fresh = 0;
  for (const r of records) {
    if (r.startMs < from || r.startMs >= to) continue;
    all++;
    if (r.outcome === "fresh") fresh++;
  }
  return all === 0 ? NaN : fresh / all;
}

function recovery(records: readonly RequestRecord[], t: Timeline, before: number): number | null {
  if (Number.isNaN(before)) return null;
  for (let from = t.outageToMs; from + t.windowMs <= t.endMs; from += t.windowMs) {
    const share = freshShare(records, from, from + t.windowMs);
    if (!Number.isNaN(share) && share >= before - RECOVERY_SLACK) return from - t.outageToMs;
  }
  return null;
}

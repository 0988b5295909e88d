// The figures of a run over the sick upstream (three-tier, gateway), from a log of its requests:
// the seed's table (mean, P99, error rate) plus the max, the share a fallback answered, and how
// long after the upstream's outage the answers were the upstream's own again.

/** @internal One request of the log, on the load's clock. */
export interface OutageRecord {
  /** When it was sent (or arrived), in ms from the start of the load. */
  readonly startMs: number;
  readonly latencyMs: number;
  /** `fresh`: the upstream's answer; `fallback`: a stand-in; `error`: anything else. */
  readonly outcome: "fresh" | "fallback" | "error";
  /** Still waiting when the load stopped: its latency is a lower bound. */
  readonly open?: boolean;
}

/** @internal One run's figures. */
export interface OutageFigures {
  readonly requests: number;
  readonly meanMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Whether the max is a lower bound (a request was still open at the stop). */
  readonly maxOpen: boolean;
  /** Share that got no answer (error status, client gave up, still open). */
  readonly errorRate: number;
  /** Share answered by a fallback. */
  readonly fallbackShare: number;
  /**
   * From the outage's end to the start of the first window whose share of fresh answers (the
   * upstream's own) is back within {@link RECOVERY_SLACK} of its level before the outage; null:
   * not within the run.
   */
  readonly recoveryMs: number | null;
  /** Share the upstream answered before the outage: what "recovered" is measured against. */
  readonly freshBefore: number;
}

/** @internal "Recovered": a fresh share no more than 5 percentage points under the one before the outage. */
export const RECOVERY_SLACK = 0.05;

/** @internal The outage and the windows recovery is judged in, on the load's clock. */
export interface Timeline {
  readonly outageFromMs: number;
  readonly outageToMs: number;
  readonly windowMs: number;
  /** The end of the load: windows reaching past it are not judged. */
  readonly endMs: number;
}

/** @internal The figures of one run's records. */
export function outageFigures(records: readonly OutageRecord[], t: Timeline): OutageFigures {
  const n = records.length;
  const latencies = records.map((r) => r.latencyMs).sort((a, b) => a - b);
  const count = (o: OutageRecord["outcome"]): number =>
    records.filter((r) => r.outcome === o).length;
  const maxMs = latencies[n - 1] ?? 0;
  // Before the outage, less a window: requests sent just before it are caught by it.
  const freshBefore = freshShare(records, 0, Math.max(t.windowMs, t.outageFromMs - t.windowMs));
  return {
    requests: n,
    meanMs: n === 0 ? 0 : latencies.reduce((a, b) => a + b, 0) / n,
    p99Ms: n === 0 ? 0 : latencies[Math.min(n - 1, Math.ceil(n * 0.99) - 1)]!,
    maxMs,
    maxOpen: records.some((r) => r.open === true && r.latencyMs >= maxMs),
    errorRate: n === 0 ? 0 : count("error") / n,
    fallbackShare: n === 0 ? 0 : count("fallback") / n,
    recoveryMs: recovery(records, t, freshBefore),
    freshBefore,
  };
}

/** Share of the requests sent in [from, to) that the upstream answered; NaN if none. */
function freshShare(records: readonly OutageRecord[], from: number, to: number): number {
  let all = 0;
  let fresh = 0;
  for (const r of records) {
    if (r.startMs < from || r.startMs >= to) continue;
    all++;
    if (r.outcome === "fresh") fresh++;
  }
  return all === 0 ? NaN : fresh / all;
}

function recovery(records: readonly OutageRecord[], t: Timeline, before: number): number | null {
  if (Number.isNaN(before)) return null;
  for (let from = t.outageToMs; from + t.windowMs <= t.endMs; from += t.windowMs) {
    const share = freshShare(records, from, from + t.windowMs);
    if (!Number.isNaN(share) && share >= before - RECOVERY_SLACK) return from - t.outageToMs;
  }
  return null;
}

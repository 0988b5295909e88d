// The gateway scenario's figures, from the client's records: the seed's table (mean, P99, error
// rate) plus the max, the share the gateway answered with a fallback, and how long after the
// upstream's outage the answers were the upstream's own again.
import type { ClientRecord } from "./gateway-load.js";

/** @internal One variant's figures. */
export interface GatewayFigures {
  readonly requests: number;
  readonly meanMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Share answered with an error status, or not answered before the client gave up. */
  readonly errorRate: number;
  /** Share answered by the gateway's fallback (static or stale: `x-timebound-served`). */
  readonly fallbackShare: number;
  /**
   * From the outage's end to the start of the first window whose share of fresh answers (the
   * upstream's own) is back within {@link RECOVERY_SLACK} of its level before the outage; null:
   * not within the run.
   */
  readonly recoveryMs: number | null;
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
export function gatewayFigures(records: readonly ClientRecord[], t: Timeline): GatewayFigures {
  const n = records.length;
  const latencies = records.map((r) => r.latencyMs).sort((a, b) => a - b);
  const count = (o: ClientRecord["outcome"]): number =>
    records.filter((r) => r.outcome === o).length;
  // Before the outage, less a window: requests sent just before it are caught by it.
  const before = freshShare(records, 0, Math.max(t.windowMs, t.outageFromMs - t.windowMs));
  return {
    requests: n,
    meanMs: n === 0 ? 0 : latencies.reduce((a, b) => a + b, 0) / n,
    p99Ms: n === 0 ? 0 : latencies[Math.min(n - 1, Math.ceil(n * 0.99) - 1)]!,
    maxMs: latencies[n - 1] ?? 0,
    errorRate: n === 0 ? 0 : count("error") / n,
    fallbackShare: n === 0 ? 0 : count("fallback") / n,
    recoveryMs: recovery(records, t, before),
  };
}

/** Share of the requests sent in [from, to) that the upstream answered; NaN if none. */
function freshShare(records: readonly ClientRecord[], from: number, to: number): number {
  let all = 0;
  let fresh = 0;
  for (const r of records) {
    if (r.startMs < from || r.startMs >= to) continue;
    all++;
    if (r.outcome === "fresh") fresh++;
  }
  return all === 0 ? NaN : fresh / all;
}

function recovery(records: readonly ClientRecord[], t: Timeline, before: number): number | null {
  if (Number.isNaN(before)) return null;
  for (let from = t.outageToMs; from + t.windowMs <= t.endMs; from += t.windowMs) {
    const share = freshShare(records, from, from + t.windowMs);
    if (!Number.isNaN(share) && share >= before - RECOVERY_SLACK) return from - t.outageToMs;
  }
  return null;
}

// The counters of the fault-injecting upstream, kept in its process and read over its admin port.

/** Counters of one route (or of the default profile, under the key `"default"`). */
export interface FaultRouteStats {
  /** Requests that arrived. */
  received: number;
  /** Requests answered (a response sent in full, whatever its status). */
  answered: number;
  /** Requests whose client went away before the answer (hangs included). */
  cancelled: number;
  /** Requests in progress now. */
  inFlight: number;
  /** Most requests in progress at once since the last reset. */
  peakInFlight: number;
}

/**
 * What the upstream saw, from {@link FaultUpstream.stats}. Every count starts at the start or
 * at the last {@link FaultUpstream.resetStats}; a request in progress across a reset counts in
 * `inFlight` and, when it ends, in the new counts of how it ended.
 *
 * @example
 * ```ts
 * import { startFaultUpstream } from "timebound/testing";
 *
 * await using upstream = await startFaultUpstream({ latency: 5 });
 * await fetch(upstream.url);
 * const s = await upstream.stats();
 * console.log(`${s.received} received, peak ${s.peakInFlight} in flight, ${s.cancelled} cancelled`);
 * ```
 */
export interface FaultUpstreamStats extends FaultRouteStats {
  /** The generator's seed (the one given, or the random one picked). */
  readonly seed: number;
  /** Milliseconds since the counts started (start or last reset). */
  readonly sinceMs: number;
  /** Milliseconds since the current configuration took effect (outage windows count from it). */
  readonly configuredMsAgo: number;
  /** Answers by status code. */
  readonly byStatus: Record<string, number>;
  /** What the faults did: errors and outage failures answered, hangs begun, connections reset. */
  readonly injected: {
    /** Requests answered with the injected `errorStatus` (`errorRate`). */
    errors: number;
    /** Requests answered with an error status by a `"fail"` outage window. */
    outageFailures: number;
    /** Requests left unanswered (`hangRate` or a `"hang"` outage window). */
    hangs: number;
    /** Connections reset (`resetRate` or a `"reset"` outage window). */
    resets: number;
  };
  /**
   * Counts per second since the counts started: index i is second `firstSecond + i`. At most
   * the last hour is kept.
   */
  readonly perSecond: {
    /** The second (since the counts started) that index 0 counts. */
    firstSecond: number;
    /** Requests that arrived, per second. */
    received: number[];
    /** Requests answered, per second. */
    answered: number[];
    /** Requests whose client went away before the answer, per second. */
    cancelled: number[];
  };
  /** Per route prefix, and `"default"` for the requests no route matched. */
  readonly routes: Record<string, FaultRouteStats>;
}

/** Seconds of per-second counts kept. */
const KEEP_SECONDS = 3600;

/** Per-second counts, with bounded memory. @internal */
export class PerSecond {
  firstSecond = 0;
  readonly received: number[] = [];
  readonly answered: number[] = [];
  readonly cancelled: number[] = [];

  add(series: number[], second: number): void {
    let i = second - this.firstSecond;
    if (i >= KEEP_SECONDS) {
      const drop = i - KEEP_SECONDS + 1;
      for (const s of [this.received, this.answered, this.cancelled]) s.splice(0, drop);
      this.firstSecond += drop;
      i -= drop;
    }
    if (i < 0) return; // before a reset
    while (series.length <= i) series.push(0);
    series[i]! += 1;
  }
}

/** A fresh set of route counters. @internal */
export function routeStats(inFlight = 0): FaultRouteStats {
  return { received: 0, answered: 0, cancelled: 0, inFlight, peakInFlight: inFlight };
}

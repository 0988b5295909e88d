// Shared shape of the I/O cancellation benchmarks: each adapter measures, over many runs, how long
// after the deadline the caller was released and how long the other side kept working, for
// timebound and for "the usual way" (query_timeout, commandTimeout, AbortSignal.timeout...).

/** One run of one operation that was cut off by a deadline. */
export interface CancelSample {
  /** Deadline → the caller's promise rejected, in ms. */
  readonly callerMs: number;
  /** Deadline → the work stopped on the other side, in ms (null: it never stopped within the run). */
  readonly workMs: number | null;
  /** Whether the next call on the same pool/client/connection worked. */
  readonly nextCallOk: boolean;
}

/** What the io suite needs to know to start each adapter's benchmark. */
export interface IoBenchEnv {
  readonly pgUrl: string | undefined;
  readonly redisUrl: string | undefined;
  /** How many runs per variant (the issue asks for 200). */
  readonly runs: number;
}

/** Summary of many {@link CancelSample}s of one variant. */
export interface LatencyRow {
  readonly adapter: string;
  readonly variant: string;
  readonly runs: number;
  readonly callerP50: number;
  readonly callerP99: number;
  readonly workP50: number | null;
  readonly workP99: number | null;
  /** Runs whose work never stopped within the run. */
  readonly workNeverStopped: number;
  readonly nextCallFailures: number;
}

/** Nearest-rank percentile of `values` (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function summarize(
  adapter: string,
  variant: string,
  samples: readonly CancelSample[],
): LatencyRow {
  const work = samples.map((s) => s.workMs).filter((w): w is number => w !== null);
  return {
    adapter,
    variant,
    runs: samples.length,
    callerP50: percentile(
      samples.map((s) => s.callerMs),
      50,
    ),
    callerP99: percentile(
      samples.map((s) => s.callerMs),
      99,
    ),
    workP50: work.length > 0 ? percentile(work, 50) : null,
    workP99: work.length > 0 ? percentile(work, 99) : null,
    workNeverStopped: samples.length - work.length,
    nextCallFailures: samples.filter((s) => !s.nextCallOk).length,
  };
}

const ms = (v: number | null): string => (v === null ? "never" : `${v.toFixed(1)} ms`);

/** One line per variant: caller p50/p99, work-after-deadline p50/p99, next call health. */
export function formatLatency(r: LatencyRow): string {
  const never = r.workNeverStopped > 0 ? ` (${r.workNeverStopped} runs: never)` : "";
  return [
    `${r.adapter} / ${r.variant}`.padEnd(44),
    `caller ${ms(r.callerP50)} / ${ms(r.callerP99)}`.padEnd(30),
    `work after deadline ${ms(r.workP50)} / ${ms(r.workP99)}${never}`.padEnd(48),
    `next call failed ${r.nextCallFailures}/${r.runs}`,
  ].join("  ");
}

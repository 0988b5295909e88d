// The metrics of the scenarios over the sick upstream (three-tier, gateway), and the verdicts
// drawn from them: which metrics one run is clearly better or worse on than another.
import { formatCount, formatMs } from "./format.js";
import type { OutageFigures } from "./outage-figures.js";
import type { UpstreamLoad } from "./outage-run.js";
import { type Metric, higherBy, percent } from "./seed-table.js";

/** @internal What the metrics read of a run. */
export interface OutageRun extends UpstreamLoad {
  readonly figures: OutageFigures;
}

/** @internal What a scenario says in its own words: what counts as an error, and as a fallback. */
export interface OwnMeasures {
  readonly errors: string;
  readonly fallback: string;
  /** Whether a larger fallback share is a verdict against a run (not where a fallback is the point). */
  readonly judgeFallback: boolean;
}

/** @internal The table's metrics, in the table's order. */
export function outageMetrics(own: OwnMeasures): readonly Metric<OutageRun>[] {
  return [
    msMetric("mean", "mean latency", (r) => r.figures.meanMs, higherBy(1.1, 2)),
    msMetric("p99", "P99 latency", (r) => r.figures.p99Ms, higherBy(1.1, 5)),
    {
      ...msMetric("max", "max latency", (r) => r.figures.maxMs, higherBy(1.1, 20)),
      text: (r) => `${r.figures.maxOpen ? ">= " : ""}${formatMs(r.figures.maxMs)}`,
    },
    shareMetric("errors", own.errors, (r) => r.figures.errorRate, higherBy(1.2, 0.002)),
    shareMetric(
      "fallback",
      own.fallback,
      (r) => r.figures.fallbackShare,
      own.judgeFallback ? higherBy(1.2, 0.002) : () => false,
    ),
    countMetric(
      "upstream.received",
      "upstream load: requests it received",
      (r) => r.upstreamReceived,
      higherBy(1.05, 10),
    ),
    countMetric(
      "upstream.peak",
      "upstream load: peak requests in flight",
      (r) => r.upstreamPeakInFlight,
      higherBy(1.2, 5),
    ),
    {
      key: "recovery",
      measure: "time to recover after the outage",
      unit: "ms",
      value: (r) => r.figures.recoveryMs,
      text: (r) =>
        r.figures.recoveryMs === null ? "not within the run" : formatMs(r.figures.recoveryMs),
      worse: higherBy(1.5, 1),
    },
  ];
}

type Figure = (r: OutageRun) => number;
type Worse = Metric<OutageRun>["worse"];

function msMetric(key: string, measure: string, ms: Figure, worse: Worse): Metric<OutageRun> {
  return { key, measure, unit: "ms", value: ms, text: (r) => formatMs(ms(r)), worse };
}

function countMetric(key: string, measure: string, n: Figure, worse: Worse): Metric<OutageRun> {
  return { key, measure, unit: "count", value: n, text: (r) => formatCount(n(r)), worse };
}

function shareMetric(key: string, measure: string, share: Figure, worse: Worse): Metric<OutageRun> {
  return { key, measure, value: share, text: (r) => percent(share(r)), worse };
}

/** @internal The metrics `run` is clearly better (wins) and worse (losses) on than `base`, each named by `name`. */
export function verdictOf<R>(
  metrics: readonly Metric<R>[],
  run: R,
  base: R,
  name: (m: Metric<R>) => string,
): { wins: string[]; losses: string[] } {
  return {
    wins: metrics.filter((m) => m.worse(m.value(base), m.value(run))).map(name),
    losses: metrics.filter((m) => m.worse(m.value(run), m.value(base))).map(name),
  };
}

/** @internal A metric's name with both runs' figures: "mean latency (23 ms vs 842 ms)". */
export function withFigures<R>(run: R, base: R): (m: Metric<R>) => string {
  return (m) => `${m.measure} (${m.text(run)} vs ${m.text(base)})`;
}

/** @internal "better on ...; worse on ..." ("nothing" for an empty side). */
export function verdictText(v: { readonly wins: string[]; readonly losses: string[] }): string {
  const list = (names: string[]): string => (names.length === 0 ? "nothing" : names.join(", "));
  return `better on ${list(v.wins)}; worse on ${list(v.losses)}`;
}

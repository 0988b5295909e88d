// The table the three-tier and gateway scenarios share: the seed's section 3.3 figures as it
// reports them, and metrics that read a run, show it, and say when one run is clearly worse.
import { formatMs } from "./format.js";
import type { Measurement, ResultRow } from "./scenario.js";

/** @internal What the seed reports for its payment gateway at 12,000 QPS (section 3.3). */
export const SEED_REPORTED = {
  meanMs: { before: 842, after: 23 },
  errorRate: { before: 0.187, after: 0.0002 },
  p99Ms: { before: 3_200, after: 47 },
} as const;

/** @internal What the seed's section 3.3 reports, as the scenarios cite it. */
export const SEED_ARTICLE =
  "section 3.3 reports a payment gateway at 12,000 QPS going from 18.7% errors, 842 ms mean " +
  "and 3.2 s P99 to 0.02%, 23 ms and 47 ms with timeout 800 ms + breaker + 2 retries + fallback";

/** @internal A share as a percentage, with the digits a small share needs. */
export function percent(share: number): string {
  if (share === 0) return "0%";
  if (share < 0.001) return `${(share * 100).toFixed(3)}%`;
  return `${(share * 100).toFixed(share < 0.1 ? 2 : 1)}%`;
}

/** @internal One metric of run `R`: how to read it, show it, and when one value is clearly worse. */
export interface Metric<R> {
  readonly key: string;
  readonly measure: string;
  readonly unit?: "count" | "ms";
  readonly value: (r: R) => number | null;
  readonly text: (r: R) => string;
  /** Whether `a` is clearly worse than `b` (lower is better for every metric here). */
  readonly worse: (a: number | null, b: number | null) => boolean;
}

/** @internal Lower is better; `a` is worse when it exceeds `b` by both margins (noise is not a verdict). */
export function higherBy(ratio: number, absolute: number) {
  return (a: number | null, b: number | null): boolean => {
    if (a === null) return b !== null; // not recovered vs recovered
    if (b === null) return false;
    return a > b * ratio && a - b > absolute;
  };
}

/** @internal `m` of `run`, marked "(worse)" when clearly worse than `against`. */
export function measurement<R>(m: Metric<R>, run: R, against?: R): Measurement {
  const value = m.value(run);
  const worse = against !== undefined && m.worse(value, m.value(against));
  return { value, text: m.text(run) + (worse ? " (worse)" : "") };
}

/**
 * @internal One row a metric, `wrong` in the left column and `right` in the right one, each
 * marked "(worse)" when clearly worse than the other; keys are `<prefix>.<metric>`.
 */
export function metricRows<R>(
  metrics: readonly Metric<R>[],
  prefix: string,
  group: string,
  wrong: R,
  right: R,
): ResultRow[] {
  return metrics.map((m) => ({
    key: `${prefix}.${m.key}`,
    group,
    measure: m.measure,
    ...(m.unit === undefined ? {} : { unit: m.unit }),
    wrong: measurement(m, wrong, right),
    right: measurement(m, right, wrong),
  }));
}

/** @internal A run's figures in the seed's table order: "12.5%, 300 ms, 2,000 ms" (errors, mean, P99). */
export function seedOrderText(f: {
  readonly errorRate: number;
  readonly meanMs: number;
  readonly p99Ms: number;
}): string {
  return `${percent(f.errorRate)}, ${formatMs(f.meanMs)}, ${formatMs(f.p99Ms)}`;
}

/** @internal What the seed reports without its tiers, and with them, in words. */
export function seedReportedText(): { readonly before: string; readonly after: string } {
  const s = SEED_REPORTED;
  return {
    before:
      `${percent(s.errorRate.before)} errors, ${formatMs(s.meanMs.before)} mean and ` +
      `${formatMs(s.p99Ms.before)} P99`,
    after: `${percent(s.errorRate.after)}, ${formatMs(s.meanMs.after)} and ${formatMs(s.p99Ms.after)}`,
  };
}

/**
 * @internal The seed's own before/after figures, as rows of one group; `before` names the seed's
 * service without its tiers ("unprotected").
 */
export function seedRows(before: string): ResultRow[] {
  const s = SEED_REPORTED;
  const group = `(the seed) its payment gateway at 12,000 QPS, as it reports: ${before} vs three tiers`;
  const row = (
    key: string,
    measure: string,
    before: number,
    after: number,
    text: (n: number) => string,
  ): ResultRow => ({
    key: `seed-reported.${key}`,
    group,
    measure,
    wrong: { value: before, text: text(before) },
    right: { value: after, text: text(after) },
  });
  return [
    row("mean", "mean latency", s.meanMs.before, s.meanMs.after, formatMs),
    row("p99", "P99 latency", s.p99Ms.before, s.p99Ms.after, formatMs),
    row("errors", "error rate", s.errorRate.before, s.errorRate.after, percent),
  ];
}

/** @internal `text` with its first letter capitalised. */
export function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

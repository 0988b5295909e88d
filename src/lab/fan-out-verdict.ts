// Verdicts the fan-out table prints: each computed from the measurements, with a margin for noise,
// so that a strategy that loses on a measure is said to lose.

/** @internal How variant 3 compares with another variant on one measure. */
export type Verdict = "better" | "worse" | "same";

/** @internal A share measured over `n` trials: `k` of them counted. */
export interface Share {
  readonly k: number;
  readonly n: number;
}

/** @internal `k / n`, or 0 for no trials. */
export function ratio(s: Share): number {
  return s.n === 0 ? 0 : s.k / s.n;
}

/**
 * @internal Compares two shares where higher is better. "same" unless they differ by more than
 * three standard errors of the difference (pooled binomial) and by at least a percentage point:
 * a few thousand requests per variant on a shared machine leave that much noise.
 */
export function compareShares(dynamic: Share, other: Share): Verdict {
  if (dynamic.n === 0 || other.n === 0) return "same";
  const pooled = (dynamic.k + other.k) / (dynamic.n + other.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / dynamic.n + 1 / other.n));
  const diff = ratio(dynamic) - ratio(other);
  if (Math.abs(diff) <= Math.max(3 * se, 0.01)) return "same";
  return diff > 0 ? "better" : "worse";
}

/**
 * @internal Compares two costs where lower is better (a latency, time held). "same" unless they
 * differ by more than `relative` of the larger and by more than `absolute`.
 */
export function compareCosts(
  dynamic: number,
  other: number,
  relative: number,
  absolute: number,
): Verdict {
  const diff = dynamic - other;
  if (Math.abs(diff) <= Math.max(relative * Math.max(dynamic, other), absolute)) return "same";
  return diff < 0 ? "better" : "worse";
}

/** @internal How a verdict reads after a value in the table. */
export function verdictText(v: Verdict): string {
  return v === "same" ? "same within noise" : v;
}

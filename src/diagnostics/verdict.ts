/**
 * Is it leaking? A statistical verdict per growth series (heap, RSS, live contexts, live
 * operations, handles by type), the answer one otherwise reads off a memory curve by eye.
 *
 * The method, and why:
 *
 * 1. A leak is what never comes back down, so the test looks at the series' FLOOR, not its
 *    level. Garbage collection makes heap curves a sawtooth and in-flight work makes counts
 *    jitter; neither moves the floor. The series is cut into `m` consecutive stretches of `w`
 *    samples, `w` being the longest run of non-decreasing steps plus one (one whole GC cycle fits
 *    in a stretch, so every stretch holds a trough), capped so that there are at least `mMin`
 *    stretches. The floor is the minimum of each stretch. Minima of disjoint stretches of
 *    independent noise are independent, which the test below assumes.
 *
 * 2. Mann–Kendall trend test on the floor, one-sided (only growth is a leak):
 *    S = Σ_{i<j} sign(f_j − f_i);
 *    Var(S) = [m(m−1)(2m+5) − Σ_g t_g(t_g−1)(2t_g+5)] / 18, t_g the sizes of groups of ties;
 *    Z = (S − 1)/√Var(S) for S > 0, (S + 1)/√Var(S) for S < 0, 0 otherwise (continuity
 *    correction); p = 1 − Φ(Z). Leak when p < alpha. The test uses ranks only, so it needs no
 *    assumption about the noise's distribution and no threshold on size, and it is unchanged
 *    by adding a constant or scaling (bytes or MB give the same verdict). `mMin` is the
 *    smallest number of points for which a perfectly rising floor reaches p < alpha (8 for
 *    alpha = 0.001); with fewer the verdict is "insufficient-data".
 *
 * 3. The slope is Sen's: the median of the pairwise slopes of the floor, per second, robust to
 *    outliers, reported for people, not used to decide.
 *
 * 4. For byte series (heap, RSS) a rise must also be material: the floor must have grown by at
 *    least `minBytes` (1 MiB by default) over the run. A short run's heap floor does rise, and
 *    steadily: compiled code, caches filling, and the tracker's own buffers filling to their
 *    bounds; a ranks-only test cannot tell that from a leak, and a second-half test cannot
 *    either when the filling lasts the whole run. Counts (contexts, operations, handles) keep
 *    the scale-free test alone: any sustained rise of live contexts is a leak.
 *
 * 5. For byte series, the rise must also go on: over the second half of the floor points it must
 *    be at least `minBytes / 2`. A leak at a steady rate passes this whenever it passes step 4
 *    (half the run, half the growth); a warm-up that levels off does not. Under a sustained
 *    load V8 grows its young generation for the first 30-60 s (a gateway measured 93 -> 128 MB,
 *    then flat for good), which step 4 alone calls a leak unless the run is long enough to
 *    drown it.
 *
 * Also reported, not used to decide: clinic.js doctor's sign-change test on the differential
 * (the number of sign changes of y[i+1] − y[i] against Binomial(n, ½), one-sided, low tail).
 * Doctor uses it for handles; alone it would call a healthy GC sawtooth a leak (few sign
 * changes) and miss slow growth under noise (the noise's differences change sign as often as
 * pure noise does). What it does catch, bursts of accumulation released at once, shows in the
 * explanation.
 */
import { describeValue, invalidType, outOfRange, readOptions } from "../core/internal.js";
import { growthSeries, type GrowthSeries } from "./curves.js";
import type { GrowthSample } from "./model.js";

/** Verdict on one series. */
export interface SeriesVerdict {
  /** Series id: `heapUsed`, `rss`, `liveContexts`, `liveOperations`, `handles:<type>`. */
  readonly series: string;
  /** The series' name for people: "heap used", "live contexts", "handles: Timeout"... */
  readonly label: string;
  /** What the values count: bytes (heap, RSS) or items. */
  readonly unit: "bytes" | "count";
  /** Whether the floor rises (a leak), does not, or there are too few samples to say. */
  readonly verdict: "leak" | "no-leak" | "insufficient-data";
  /** Sen's slope of the floor, in `unit` per second (0 without enough points). */
  readonly slope: number;
  /** One-sided Mann–Kendall p-value for a rising floor (1 without enough points). */
  readonly pValue: number;
  /** Mann–Kendall Z statistic of the floor (0 without enough points). */
  readonly statistic: number;
  /** Samples in the series. */
  readonly samples: number;
  /** Points in the floor (stretches the series was cut into). */
  readonly floorPoints: number;
  /** clinic.js doctor's sign-change p-value on the differential (1 when the series is constant). */
  readonly signChangePValue: number;
  /** One or two sentences for people, with the numbers behind the verdict. */
  readonly explanation: string;
}

/** Options of {@link growthVerdict}. */
export interface GrowthVerdictOptions {
  /**
   * Significance level of each series' test; with about ten series this keeps the chance of any
   * false alarm near 1 % (Bonferroni). Default 0.001; greater than 0, at most 0.2.
   */
  readonly alpha?: number;
  /** Fewer samples than this give "insufficient-data". Default 12; 3 to 10,000,000. */
  readonly minSamples?: number;
  /**
   * How much a byte series' floor must have grown over the run to be called a leak (step 4 of
   * the method). Default 1 MiB; 0 to 2^40.
   */
  readonly minBytes?: number;
  /**
   * Samples spanning less than this many ms give "insufficient-data": a short run's warm-up
   * (code compiled, caches and pools filling) rises like a leak. Default 0; 0 to 1e9. Tracking
   * judges its own samples with its `growthMinRunMs` option (30 s by default).
   */
  readonly minDurationMs?: number;
}

/** @internal Default of {@link GrowthVerdictOptions.minBytes}. */
export const MIN_LEAK_BYTES = 1024 * 1024;

/** Cap on floor points: the test is O(m²) and 500 points are plenty of evidence. */
const MAX_FLOOR_POINTS = 500;

/**
 * Judges every growth series of the samples: "leak" when the series' floor rises (Mann–Kendall,
 * one-sided, p < alpha), "no-leak" when it does not, "insufficient-data" with too few samples.
 * See this module's comment for the method.
 *
 * @example
 * ```ts
 * for (const v of growthVerdict(snapshot().samples)) {
 *   if (v.verdict === "leak") console.warn(v.explanation);
 * }
 * // live contexts: the floor rises 4.8/s (Mann–Kendall z=4.12, one-sided p=1.9e-5 < 0.001): leak.
 * ```
 */
export function growthVerdict(
  samples: readonly GrowthSample[],
  options: GrowthVerdictOptions = {},
): SeriesVerdict[] {
  const fn = "growthVerdict";
  const o = readOptions(options, fn, ["alpha", "minSamples", "minBytes", "minDurationMs"]);
  // A significance level, so 0 is excluded (it would call nothing a leak): not a Range.
  const alpha = o.raw("alpha") ?? 0.001;
  if (typeof alpha !== "number" || !(alpha > 0 && alpha <= 0.2)) {
    const message = `${fn}: options.alpha must be a number above 0 and at most 0.2, got ${describeValue(alpha)}`;
    throw typeof alpha === "number" ? outOfRange(message) : invalidType(message);
  }
  const minSamples = o.number("minSamples", 12, { min: 3, max: 10_000_000, integer: true });
  const minBytes = o.number("minBytes", MIN_LEAK_BYTES, { min: 0, max: 2 ** 40 });
  const minDurationMs = o.number("minDurationMs", 0, { min: 0, max: 1e9 });
  const { times, series } = growthSeries(samples, "growthVerdict");
  const minPoints = minFloorPoints(alpha);
  const spanMs = (times.at(-1) ?? 0) - (times[0] ?? 0);
  return series.map((s) =>
    judge(s, times, { alpha, minSamples, minPoints, minBytes, minDurationMs, spanMs }),
  );
}

interface Thresholds {
  readonly alpha: number;
  readonly minSamples: number;
  readonly minPoints: number;
  readonly minBytes: number;
  readonly minDurationMs: number;
  readonly spanMs: number;
}

function judge(s: GrowthSeries, times: readonly number[], t: Thresholds): SeriesVerdict {
  const { alpha, minSamples, minPoints } = t;
  const n = s.values.length;
  const signChangePValue = signChangeTest(s.values);
  const base = { series: s.id, label: s.label, unit: s.unit, samples: n, signChangePValue };
  const insufficient = (floorPoints: number, why: string): SeriesVerdict => ({
    ...base,
    verdict: "insufficient-data",
    slope: 0,
    pValue: 1,
    statistic: 0,
    floorPoints,
    explanation: `${s.label}: ${why}.`,
  });
  if (n < minSamples) {
    return insufficient(0, `${n} samples; at least ${minSamples} are needed for a verdict`);
  }
  if (t.spanMs < t.minDurationMs) {
    return insufficient(
      0,
      `the samples span ${(t.spanMs / 1000).toFixed(1)} s; a verdict needs at least ` +
        `${t.minDurationMs / 1000} s, as a shorter run's warm-up rises like a leak`,
    );
  }
  const floor = floorOf(s.values, times, minPoints);
  if (floor.values.length < minPoints) {
    return insufficient(
      floor.values.length,
      `${floor.values.length} floor points; at least ${minPoints} are needed to reach p < ${alpha}`,
    );
  }
  const { z, p } = mannKendall(floor.values);
  const slope = senSlope(floor.times, floor.values);
  const rising = p < alpha;
  const grown = (floor.values.at(-1) ?? 0) - (floor.values[0] ?? 0);
  const small = rising && s.unit === "bytes" && grown < t.minBytes;
  // Step 5: a leak keeps rising; a warm-up levels off.
  const half = Math.floor(floor.values.length / 2);
  const grownLate = (floor.values.at(-1) ?? 0) - (floor.values[half] ?? 0);
  const levelled = rising && !small && s.unit === "bytes" && grownLate < t.minBytes / 2;
  const leak = rising && !small && !levelled;
  const stretches = `${floor.values.length} stretches of ${floor.width} samples`;
  const test = `Mann–Kendall z=${z.toFixed(2)}, one-sided p=${p.toPrecision(2)} ${rising ? "<" : "≥"} ${alpha}`;
  let explanation: string;
  if (leak) {
    explanation = `${s.label}: the floor (lowest value of each of ${stretches}) rises ${rate(slope, s.unit)} (${test}): leak.`;
  } else if (levelled) {
    explanation = `${s.label}: the floor rose by ${amount(grown, s.unit)} (${test}), but by ${amount(Math.max(0, grownLate), s.unit)} over the second half of the run, less than half the ${amount(t.minBytes, s.unit)} a leak verdict needs: it levelled off, as a warm-up does (V8 growing its young generation under load, code compiled, pools filled). No leak found.`;
  } else if (small) {
    explanation = `${s.label}: the floor rises ${rate(slope, s.unit)} (${test}), but by ${amount(grown, s.unit)} in all, less than the ${amount(t.minBytes, s.unit)} a leak verdict needs: compiled code, caches and bounded buffers filling up look like this in a short run. No leak found.`;
  } else if (isConstant(s.values)) {
    explanation = `${s.label}: constant at ${amount(s.values[0] ?? 0, s.unit)}: no leak.`;
  } else {
    explanation = `${s.label}: no rising trend in the floor of ${stretches} (${test}): no leak.`;
    if (signChangePValue < alpha) {
      explanation += ` It climbs and drops in steps (clinic doctor's sign-change test p=${signChangePValue.toPrecision(2)}), as garbage collection or batched work does; that is not unbounded growth.`;
    }
  }
  return {
    ...base,
    verdict: leak ? "leak" : "no-leak",
    slope,
    pValue: p,
    statistic: z,
    floorPoints: floor.values.length,
    explanation,
  };
}

interface Floor {
  readonly values: number[];
  readonly times: number[];
  /** Samples per stretch (the shortest one). */
  readonly width: number;
}

/** The minimum of each stretch of about `w` samples (module comment, step 1). */
function floorOf(values: readonly number[], times: readonly number[], minPoints: number): Floor {
  const n = values.length;
  let longestRise = 0;
  let run = 0;
  for (let i = 1; i < n; i++) {
    run = (values[i] ?? 0) >= (values[i - 1] ?? 0) ? run + 1 : 0;
    longestRise = Math.max(longestRise, run);
  }
  const width = Math.max(
    1,
    Math.ceil(n / MAX_FLOOR_POINTS),
    Math.min(longestRise + 1, Math.floor(n / minPoints)),
  );
  const m = Math.floor(n / width);
  const floor: Floor = { values: [], times: [], width };
  for (let k = 0; k < m; k++) {
    const from = Math.floor((k * n) / m);
    const to = Math.floor(((k + 1) * n) / m);
    let low = from;
    for (let i = from + 1; i < to; i++) if ((values[i] ?? 0) < (values[low] ?? 0)) low = i;
    floor.values.push(values[low] ?? 0);
    floor.times.push(times[low] ?? 0);
  }
  return floor;
}

/**
 * @internal Mann–Kendall S with the tie-corrected variance; Z and the one-sided p for an upward
 * trend.
 *
 * @example
 * ```ts
 * mannKendall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // { s: 45, z: 3.94, p: 4.2e-5 }
 * ```
 */
export function mannKendall(values: readonly number[]): { s: number; z: number; p: number } {
  const m = values.length;
  let s = 0;
  for (let i = 0; i < m - 1; i++) {
    const vi = values[i] ?? 0;
    for (let j = i + 1; j < m; j++) s += Math.sign((values[j] ?? 0) - vi);
  }
  const ties = new Map<number, number>();
  for (const v of values) ties.set(v, (ties.get(v) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of ties.values()) tieTerm += t * (t - 1) * (2 * t + 5);
  const variance = (m * (m - 1) * (2 * m + 5) - tieTerm) / 18;
  if (!(variance > 0)) return { s, z: 0, p: 1 };
  const z = s > 0 ? (s - 1) / Math.sqrt(variance) : s < 0 ? (s + 1) / Math.sqrt(variance) : 0;
  return { s, z, p: upperTail(z) };
}

/** Median of pairwise slopes, per second (times are ms). */
function senSlope(times: readonly number[], values: readonly number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < values.length - 1; i++) {
    for (let j = i + 1; j < values.length; j++) {
      const dt = (times[j] ?? 0) - (times[i] ?? 0);
      if (dt > 0) slopes.push((((values[j] ?? 0) - (values[i] ?? 0)) / dt) * 1000);
    }
  }
  if (slopes.length === 0) return 0;
  slopes.sort((a, b) => a - b);
  const mid = slopes.length >> 1;
  return slopes.length % 2 === 1
    ? (slopes[mid] ?? 0)
    : ((slopes[mid - 1] ?? 0) + (slopes[mid] ?? 0)) / 2;
}

/**
 * @internal clinic.js doctor's test: under a symmetric random walk the differential changes sign
 * with probability ½, so the count of sign changes is Binomial(N, ½); P(X ≤ observed) is the
 * p-value. Small means long climbs and few turns (a sawtooth, or growth); near 1 means a zigzag.
 *
 * @example
 * ```ts
 * signChangeTest(Array.from({ length: 40 }, (_, i) => i % 10)); // ≈ 1e-5: four long climbs
 * ```
 */
export function signChangeTest(values: readonly number[]): number {
  if (isConstant(values)) return 1;
  const directions: number[] = [];
  for (let i = 1; i < values.length; i++)
    directions.push(Math.sign((values[i] ?? 0) - (values[i - 1] ?? 0)));
  let changes = 0;
  for (let i = 1; i < directions.length; i++) if (directions[i] !== directions[i - 1]) changes += 1;
  const moving = directions.filter((d) => d !== 0).length;
  return binomialCdf(changes, Math.max(changes, moving));
}

/** P(X ≤ k) for X ~ Binomial(n, ½), summed in log space so large n does not underflow. */
function binomialCdf(k: number, n: number): number {
  let logPmf = -n * Math.LN2;
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += Math.exp(logPmf);
    logPmf += Math.log((n - i) / (i + 1));
  }
  return Math.min(1, sum);
}

/** The smallest number of floor points whose best case (S = m(m−1)/2) reaches p < alpha. */
function minFloorPoints(alpha: number): number {
  for (let m = 3; ; m++) {
    const rising = Array.from({ length: m }, (_, i) => i);
    if (mannKendall(rising).p < alpha) return m;
  }
}

/** 1 − Φ(z), the standard normal upper tail, with relative error below 1.2e-7 everywhere. */
function upperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Complementary error function (Numerical Recipes' Chebyshev fit, erfcc). */
function erfc(x: number): number {
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t *
                          (-1.13520398 +
                            t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-x * x + poly);
  return x >= 0 ? r : 2 - r;
}

function isConstant(values: readonly number[]): boolean {
  return values.every((v) => v === values[0]);
}

function rate(perSecond: number, unit: "bytes" | "count"): string {
  const sign = perSecond >= 0 ? "+" : "−";
  return `${sign}${amount(Math.abs(perSecond), unit)}/s`;
}

function amount(value: number, unit: "bytes" | "count"): string {
  if (unit === "count") return String(Number(value.toPrecision(3)));
  if (Math.abs(value) >= 1024 * 1024) return `${Number((value / (1024 * 1024)).toPrecision(3))} MB`;
  if (Math.abs(value) >= 1024) return `${Number((value / 1024).toPrecision(3))} KB`;
  return `${Number(value.toPrecision(3))} B`;
}

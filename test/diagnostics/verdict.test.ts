import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { GrowthSample } from "../../src/diagnostics/model.js";
import {
  growthVerdict,
  mannKendall,
  type SeriesVerdict,
  signChangeTest,
} from "../../src/diagnostics/verdict.js";

const MB = 1024 * 1024;

/** Deterministic uniform [0, 1) (mulberry32), so every run sees the same "random" series. */
function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal noise (Box–Muller). */
function normal(seed: number): () => number {
  const u = uniform(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** One sample a second; heap from `heap(i)` in MB, everything else flat unless given. */
function series(
  n: number,
  heap: (i: number) => number,
  more: (i: number) => Partial<GrowthSample> = () => ({}),
): GrowthSample[] {
  return Array.from({ length: n }, (_, i) => ({
    at: i * 1000,
    heapUsed: Math.round(heap(i) * MB),
    rss: 200 * MB,
    handles: {},
    liveContexts: 3,
    liveOperations: 0,
    ...more(i),
  }));
}

function verdictOf(samples: readonly GrowthSample[], id: string): SeriesVerdict {
  const v = growthVerdict(samples).find((s) => s.series === id);
  assert.ok(v !== undefined, `a verdict for ${id}`);
  return v;
}

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

describe("growthVerdict", () => {
  it("calls linear growth under noise a leak (noise sd 6x the per-sample growth)", () => {
    for (const seed of SEEDS) {
      const noise = normal(seed);
      const v = verdictOf(
        series(60, (i) => 50 + 0.5 * i + 3 * noise()),
        "heapUsed",
      );
      assert.equal(v.verdict, "leak", `seed ${seed}: ${v.explanation}`);
      assert.ok(v.pValue < 0.001 && v.statistic > 3);
      assert.ok(v.slope > 0.3 * MB && v.slope < 0.7 * MB, `slope ${v.slope / MB} MB/s near 0.5`);
      assert.match(
        v.explanation,
        /^heap used: the floor .* rises \+\d+ KB\/s \(Mann–Kendall z=.*\): leak\.$/,
      );
    }
  });

  it("calls stationary noise no leak", () => {
    for (const seed of SEEDS) {
      const noise = normal(seed);
      const v = verdictOf(
        series(60, () => 50 + 3 * noise()),
        "heapUsed",
      );
      assert.equal(v.verdict, "no-leak", `seed ${seed}: ${v.explanation}`);
    }
  });

  it("calls a garbage-collection sawtooth no leak, though clinic's sign-change test alone would flag it", () => {
    for (const seed of SEEDS) {
      const noise = normal(seed);
      const period = 6 + seed;
      const v = verdictOf(
        series(120, (i) => 40 + 2 * (i % period) + 0.3 * noise()),
        "heapUsed",
      );
      assert.equal(v.verdict, "no-leak", `seed ${seed}: ${v.explanation}`);
      assert.ok(v.signChangePValue < 0.001, `sign-change p ${v.signChangePValue}`);
      assert.match(v.explanation, /climbs and drops in steps/);
    }
  });

  it("calls a sawtooth whose troughs rise a leak (memory kept after every GC)", () => {
    const noise = normal(11);
    const v = verdictOf(
      series(120, (i) => 40 + 0.2 * i + 2 * (i % 10) + 0.3 * noise()),
      "heapUsed",
    );
    assert.equal(v.verdict, "leak", v.explanation);
  });

  it("catches slow growth that clinic's sign-change test misses", () => {
    const noise = normal(21);
    const v = verdictOf(
      series(60, (i) => 50 + 0.5 * i + 3 * noise()),
      "heapUsed",
    );
    assert.equal(v.verdict, "leak");
    assert.ok(v.signChangePValue > 0.05, `sign-change p ${v.signChangePValue}`);
  });

  it("a heap floor that rises steadily but by less than 1 MiB is no leak (a short run's warm-up)", () => {
    // The lab's right variant: +190 KB over 2 s of a 6.4 MB heap, in a GC sawtooth.
    const small = verdictOf(
      series(40, (i) => 6.4 + 0.005 * i + 0.2 * (i % 2)),
      "heapUsed",
    );
    assert.equal(small.verdict, "no-leak", small.explanation);
    assert.match(small.explanation, /less than the 1 MB a leak verdict needs/);
    const counted = growthVerdict(
      series(40, (i) => 6.4 + 0.005 * i + 0.2 * (i % 2)),
      {
        minBytes: 0,
      },
    ).find((v) => v.series === "heapUsed");
    assert.equal(counted?.verdict, "leak", "minBytes: 0 judges by the trend alone");
    const large = verdictOf(
      series(40, (i) => 6.4 + 0.1 * i + 0.2 * (i % 2)),
      "heapUsed",
    );
    assert.equal(large.verdict, "leak", large.explanation);
    assert.throws(() => growthVerdict([], { minBytes: -1 }), /minBytes must be a number from 0/);
  });

  it("calls RSS that rises and then levels off no leak (a warm-up), and RSS that keeps rising a leak", () => {
    // The gateway soak's curve: +9 MB over the first half (V8 growing its young generation
    // under load), flat after, with noise; and a leak of the same total at a steady rate.
    const noise = normal(3);
    const warm = series(
      120,
      () => 50,
      (i) => ({ rss: Math.round((119 + 9 * Math.min(1, i / 60) + 0.3 * noise()) * MB) }),
    );
    const levelled = verdictOf(warm, "rss");
    assert.equal(levelled.verdict, "no-leak", levelled.explanation);
    assert.match(levelled.explanation, /over the second half of the run.*levelled off/);
    const steady = series(
      120,
      () => 50,
      (i) => ({ rss: Math.round((119 + (9 * i) / 120 + 0.3 * noise()) * MB) }),
    );
    const leak = verdictOf(steady, "rss");
    assert.equal(leak.verdict, "leak", leak.explanation);
  });

  it("calls a context count that only steps up a leak, and a flat one no leak", () => {
    const samples = series(
      20,
      () => 50,
      (i) => ({ liveContexts: Math.floor(i / 3), liveOperations: 4 }),
    );
    assert.equal(verdictOf(samples, "liveContexts").verdict, "leak");
    const flat = verdictOf(samples, "liveOperations");
    assert.equal(flat.verdict, "no-leak");
    assert.equal(flat.explanation, "live operations: constant at 4: no leak.");
  });

  it("judges each handle type: recursive setTimeout growth is a leak, a jittery socket count is not", () => {
    const jitter = uniform(5);
    const samples = series(
      40,
      () => 50,
      (i) => ({
        handles: {
          Timeout: 3 + 2 * i + Math.floor(jitter() * 4),
          TCPSocketWrap: 10 + Math.floor(jitter() * 5),
        },
      }),
    );
    assert.equal(verdictOf(samples, "handles:Timeout").verdict, "leak");
    assert.equal(verdictOf(samples, "handles:TCPSocketWrap").verdict, "no-leak");
    assert.equal(verdictOf(samples, "handles:Timeout").label, "handles: Timeout");
  });

  it("says insufficient-data with too few samples, and names the number needed", () => {
    for (const v of growthVerdict(series(11, (i) => 50 + 10 * i))) {
      assert.equal(v.verdict, "insufficient-data");
      assert.equal(v.pValue, 1);
      assert.match(v.explanation, /11 samples; at least 12 are needed for a verdict/);
    }
    assert.equal(
      verdictOf(
        series(12, (i) => 50 + 10 * i),
        "heapUsed",
      ).verdict,
      "leak",
    );
    assert.deepEqual(
      growthVerdict([]).map((v) => v.verdict),
      Array(4).fill("insufficient-data"),
    );
    const few = growthVerdict(
      series(5, (i) => i),
      { minSamples: 3 },
    )[0];
    assert.match(
      few?.explanation ?? "",
      /5 floor points; at least 8 are needed to reach p < 0.001/,
    );
  });

  it("has a false alarm rate near alpha on stationary noise", () => {
    const noise = normal(77);
    let alarms = 0;
    for (let k = 0; k < 400; k++) {
      if (
        verdictOf(
          series(60, () => 50 + 3 * noise()),
          "heapUsed",
        ).verdict === "leak"
      )
        alarms += 1;
    }
    assert.ok(alarms <= 4, `${alarms} of 400 (alpha 0.001)`);
  });

  it("is unchanged by adding a constant or scaling (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 0, maxLength: 80 }),
        fc.integer({ min: -500, max: 10_000 }),
        fc.integer({ min: 1, max: 1_000 }),
        (values, shift, factor) => {
          const of = (f: (v: number) => number): SeriesVerdict | undefined =>
            growthVerdict(
              series(
                values.length,
                () => 0,
                (i) => ({ liveContexts: f(values[i] ?? 0) }),
              ),
            ).find((v) => v.series === "liveContexts");
          const base = of((v) => v);
          for (const changed of [of((v) => v + shift), of((v) => v * factor)]) {
            assert.equal(changed?.verdict, base?.verdict);
            assert.equal(changed?.pValue, base?.pValue);
            assert.equal(changed?.statistic, base?.statistic);
          }
          assert.equal(of((v) => v + shift)?.slope, base?.slope);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("rejects options out of range, naming them", () => {
    assert.throws(
      () => growthVerdict([], { alpha: 0 }),
      /growthVerdict: options\.alpha must be a number above 0 and at most 0.2, got 0/,
    );
    assert.throws(() => growthVerdict([], { alpha: Number.NaN }), /alpha/);
    assert.throws(
      () => growthVerdict([], { minSamples: 2 }),
      /minSamples must be an integer from 3/,
    );
    assert.throws(
      () => growthVerdict([{ ...series(1, () => 1)[0]!, at: Infinity }]),
      /growthVerdict: samples\[0\]\.at/,
    );
  });
});

describe("mannKendall", () => {
  it("matches hand-computed S, tie-corrected variance and p", () => {
    // [1, 1, 2]: S = 0 + 1 + 1 = 2; Var = (3·2·11 − 2·1·9) / 18 = 8/3; Z = (2 − 1)/√(8/3).
    const tied = mannKendall([1, 1, 2]);
    assert.equal(tied.s, 2);
    assert.ok(Math.abs(tied.z - 1 / Math.sqrt(8 / 3)) < 1e-12);
    // Z = 1.959964 → one-sided p = 0.025.
    const rising = mannKendall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(rising.s, 45);
    assert.ok(Math.abs(rising.z - 44 / Math.sqrt(125)) < 1e-12);
    assert.ok(Math.abs(rising.p - 4.151e-5) < 1e-7, `p ${rising.p}`);
    assert.deepEqual(mannKendall([4, 4, 4]), { s: 0, z: 0, p: 1 });
    assert.equal(mannKendall([3, 2, 1]).s, -3);
  });
});

describe("signChangeTest", () => {
  it("is small for steady climbs with rare drops and large for a zigzag", () => {
    // 4 teeth of 10: 39 steps, 6 sign changes; P(Binomial(39, ½) ≤ 6) ≈ 1e-5.
    const teeth = Array.from({ length: 40 }, (_, i) => i % 10);
    assert.ok(signChangeTest(teeth) < 1e-4);
    assert.ok(signChangeTest([1, 3, 2, 4, 1, 5, 2, 4, 1, 3, 2, 5]) > 0.5);
    assert.equal(signChangeTest([7, 7, 7]), 1);
  });
});

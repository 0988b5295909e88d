// Seed section 3.3: timeout + circuit breaker + retry, then fallback, measured. A node:http
// service calls a fault-injecting upstream (heavy-tailed latency, errors, hangs, one outage)
// under a fixed request rate, four ways; the table compares each protected variant with no
// protection, and the findings compare timebound's best with the seed's own configuration.
import { formatCount, formatMs } from "./format.js";
import { scaled } from "./nested-deadlines.js";
import type { LabOptions } from "./options.js";
import type { Measurement, Progress, ResultRow, Scenario, ScenarioResult } from "./scenario.js";
import { fullRunHint, loadScale } from "./quick.js";
import { skippedResult } from "./skipped.js";
import {
  type Metric,
  SEED_REPORTED,
  capital,
  higherBy,
  measurement,
  percent,
  seedRows as sharedSeedRows,
} from "./seed-table.js";
import { type FaultConfig, startFaultUpstream } from "../testing/index.js";
import { type Autocannon, drive, type LoadResult, loadAutocannon } from "./three-tier-load.js";
import { type RequestRecord, ThreeTierService } from "./three-tier-service.js";
import {
  CUT_COUNTS_AFTER_MS,
  RECOVERY_SLACK,
  type Timeline,
  type TierFigures,
  tierFigures,
} from "./three-tier-stats.js";
import {
  REQUEST_BUDGET_MS,
  SEED_ATTEMPTS_MS,
  SEED_TIMEOUT_MS,
  VARIANTS,
  type Variant,
} from "./three-tier-variants.js";

/**
 * Requests per second. On the project's shared 2-core machine (load generator, service and
 * upstream on the same two cores, load average 20 from other work) every variant received 100
 * a second before the outage; at 200 the timeout-only and seed variants received 60 to 140.
 */
export const RATE = 100;
/** A warm-up before the first variant (JIT, sockets), so that it does not start cold. */
const WARM_UP_MS = 1_500;
/**
 * One variant's run at scale 1: 4 s at the default 0.25, the shortest in which the outage
 * outlasts a timed-out attempt and its retry (800 + 100 + 800 ms); `--scale 2.5` gives 40 s.
 */
const RUN_MS = 16_000;
/**
 * The scale of the whole lab's quick run: 2.4 s per variant, the size test/lab/three-tier.test.ts
 * checks the verdicts at. Four variants then take about 10 s instead of 16 s.
 */
const QUICK_SCALE = 0.15;
/** The upstream's outage, as shares of the run: from 25% to 65% of it. */
const OUTAGE = { from: 0.25, to: 0.65 } as const;
/** Windows recovery is judged in: a sixteenth of the run (250 ms at the default scale, 1 s at 1). */
const WINDOWS_PER_RUN = 16;
/** How long the clients wait before they give up (the end user's patience). */
const CLIENT_TIMEOUT_MS = 2_000;
/** The breaker's open duration at scale 1 (500 ms at the default scale). */
const OPEN_MS = 2_000;
const ITEMS = 20;
const SEED = 33;

/** The upstream, between outages: heavy-tailed, failing now and then, hanging rarely, slower when busy. */
export const UPSTREAM_PROFILE: FaultConfig = {
  latency: { type: "lognormal", medianMs: 20, sigma: 1, maxMs: 10_000 },
  errorRate: 0.03,
  hangRate: 0.005,
  capacity: 50,
  seed: SEED,
};

/** @internal What one variant measured, on the service's side and on the upstream's. */
export interface TierRun {
  readonly variant: Variant;
  readonly figures: TierFigures;
  readonly load: LoadResult;
  readonly upstreamReceived: number;
  readonly upstreamPeakInFlight: number;
  /** How each request ended, for readers who want more than the figures. */
  readonly records: readonly RequestRecord[];
}

/** @internal How a run is sized; {@link threeTierPlan} derives it from the lab's options. */
export interface ThreeTierPlan {
  readonly rate: number;
  readonly runMs: number;
  readonly timeline: Timeline;
  readonly clientTimeoutMs: number;
  readonly openMs: number;
  /** Whether this is the whole lab's quick run (shortened: the findings say so). */
  readonly quick: boolean;
}

/** @internal The plan for `scale` (and a rate, for tests); `quick` marks the whole lab's quick run. */
export function threeTierPlan(scale: number, rate = RATE, quick = false): ThreeTierPlan {
  const runMs = scaled(RUN_MS, scale);
  return {
    rate,
    quick,
    runMs,
    timeline: {
      outageFromMs: Math.round(runMs * OUTAGE.from),
      outageToMs: Math.round(runMs * OUTAGE.to),
      windowMs: Math.max(50, Math.round(runMs / WINDOWS_PER_RUN)),
      endMs: runMs,
    },
    clientTimeoutMs: CLIENT_TIMEOUT_MS,
    openMs: scaled(OPEN_MS, scale),
  };
}

/** @internal Runs every variant in turn against one upstream process, reconfigured for each. */
export async function runThreeTier(
  plan: ThreeTierPlan,
  progress: Progress,
  variants: readonly Variant[] = VARIANTS,
): Promise<TierRun[] | string> {
  const autocannon = await loadAutocannon();
  if (typeof autocannon === "string") return autocannon;
  await using upstream = await startFaultUpstream(UPSTREAM_PROFILE);
  await warmUp(autocannon, upstream.url, plan.rate);
  const runs: TierRun[] = [];
  for (const variant of variants) {
    progress.step(
      `three-tier: ${variant.label}, ${formatCount(plan.rate)} requests/s for ${formatMs(plan.runMs)}`,
    );
    const service = new ThreeTierService(upstream.url, variant.make(plan.openMs));
    await service.listen();
    try {
      await upstream.resetStats();
      // The clock starts first: the outage then begins no earlier, in it, than it says.
      service.startClock();
      service.expectLoadEnd(plan.runMs - 5); // autocannon may close a few ms early
      await upstream.configure({
        ...UPSTREAM_PROFILE,
        outages: [
          { fromMs: plan.timeline.outageFromMs, toMs: plan.timeline.outageToMs, mode: "hang" },
        ],
      });
      const load = await drive(autocannon, {
        url: service.url,
        rate: plan.rate,
        durationMs: plan.runMs,
        clientTimeoutMs: plan.clientTimeoutMs,
        items: ITEMS,
      });
      const stats = await upstream.stats();
      await service.stop();
      runs.push({
        variant,
        figures: tierFigures(service.records, plan.timeline),
        load,
        upstreamReceived: stats.received,
        upstreamPeakInFlight: stats.peakInFlight,
        records: service.records,
      });
    } finally {
      await service.stop();
    }
  }
  return runs;
}

async function warmUp(autocannon: Autocannon, upstreamUrl: string, rate: number): Promise<void> {
  const service = new ThreeTierService(upstreamUrl, (request, call) =>
    call(request, { ignoreContext: true }),
  );
  await service.listen();
  try {
    const load = { url: service.url, rate, durationMs: WARM_UP_MS, clientTimeoutMs: 2_000 };
    await drive(autocannon, { ...load, items: ITEMS });
  } finally {
    await service.stop();
  }
}

// ---- the table -------------------------------------------------------------------------------

const METRICS: readonly Metric<TierRun>[] = [
  {
    key: "mean",
    measure: "mean latency",
    unit: "ms",
    value: (r) => r.figures.meanMs,
    text: (r) => formatMs(r.figures.meanMs),
    worse: higherBy(1.1, 2),
  },
  {
    key: "p99",
    measure: "P99 latency",
    unit: "ms",
    value: (r) => r.figures.p99Ms,
    text: (r) => formatMs(r.figures.p99Ms),
    worse: higherBy(1.1, 5),
  },
  {
    key: "max",
    measure: "max latency",
    unit: "ms",
    value: (r) => r.figures.maxMs,
    text: (r) => `${r.figures.maxOpen ? ">= " : ""}${formatMs(r.figures.maxMs)}`,
    worse: higherBy(1.1, 20),
  },
  {
    key: "errors",
    measure: "error rate (no answer, or an error status)",
    value: (r) => r.figures.errorRate,
    text: (r) => percent(r.figures.errorRate),
    worse: higherBy(1.2, 0.002),
  },
  {
    key: "fallback",
    measure: "answered by a fallback (cache or default)",
    value: (r) => r.figures.fallbackShare,
    text: (r) => percent(r.figures.fallbackShare),
    worse: higherBy(1.2, 0.002),
  },
  {
    key: "upstream.received",
    measure: "upstream load: requests it received",
    unit: "count",
    value: (r) => r.upstreamReceived,
    text: (r) => formatCount(r.upstreamReceived),
    worse: higherBy(1.05, 10),
  },
  {
    key: "upstream.peak",
    measure: "upstream load: peak requests in flight",
    unit: "count",
    value: (r) => r.upstreamPeakInFlight,
    text: (r) => formatCount(r.upstreamPeakInFlight),
    worse: higherBy(1.2, 5),
  },
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

function seedRows(): ResultRow[] {
  return sharedSeedRows(
    "(the seed) its payment gateway at 12,000 QPS, as it reports: unprotected vs three tiers",
  );
}

function variantRows(none: TierRun, run: TierRun, index: number): ResultRow[] {
  const letter = String.fromCharCode(97 + index); // (a), (b), (c)
  const group = `(${letter}) ${run.variant.label}, against no protection`;
  const rows: ResultRow[] = METRICS.map((m) => ({
    key: `${run.variant.key}.${m.key}`,
    group,
    measure: m.measure,
    ...(m.unit === undefined ? {} : { unit: m.unit }),
    wrong: measurement(m, none, run),
    right: measurement(m, run, none),
  }));
  const received = (r: TierRun): Measurement => ({
    value: r.records.length,
    text: `${formatCount(r.records.length)} (autocannon: ${formatCount(r.load.sent)} sent)`,
  });
  rows.push({
    key: `${run.variant.key}.received`,
    group,
    measure: "requests the service received",
    unit: "count",
    wrong: received(none),
    right: received(run),
  });
  return rows;
}

/** @internal The rows: the seed's figures, then each protected variant against no protection. */
export function threeTierRows(runs: readonly TierRun[]): ResultRow[] {
  const none = runs.find((r) => r.variant.key === "none");
  const rows = seedRows();
  if (none === undefined) return rows;
  runs.filter((r) => r !== none).forEach((r, i) => rows.push(...variantRows(none, r, i)));
  return rows;
}

/** @internal Conclusions, each computed from the runs. */
export function threeTierFindings(runs: readonly TierRun[], plan: ThreeTierPlan): string[] {
  const out: string[] = runLengthNotes(plan);
  const none = runs.find((r) => r.variant.key === "none");
  const expected = Math.round((plan.rate * plan.runMs) / 1000);
  const short = runs.filter((r) => r.records.length < expected * 0.95);
  if (short.length > 0) {
    out.push(
      `The service received fewer than 95% of the ${formatCount(expected)} requests asked for ` +
        `with ${short.map((r) => `${r.variant.label} (${formatCount(r.records.length)})`).join(", ")}: ` +
        `autocannon's connections wait for their answers, so the rate falls when answers are slow ` +
        `(those figures flatter the variant), or this machine could not hold the rate.`,
    );
  }
  if (none !== undefined) {
    for (const r of runs) {
      if (r === none) continue;
      const losses = METRICS.filter((m) => m.worse(m.value(r), m.value(none))).map(
        (m) => m.measure,
      );
      const wins = METRICS.filter((m) => m.worse(m.value(none), m.value(r))).map((m) => m.measure);
      out.push(
        `${capital(r.variant.label)} vs no protection: ` +
          `better on ${wins.length === 0 ? "nothing" : wins.join(", ")}; ` +
          `worse on ${losses.length === 0 ? "nothing" : losses.join(", ")}.`,
      );
    }
  }
  const seed = runs.find((r) => r.variant.key === "seed");
  const best = runs.find((r) => r.variant.key === "timebound");
  if (seed !== undefined && best !== undefined) {
    const wins = METRICS.filter((m) => m.worse(m.value(seed), m.value(best)));
    const losses = METRICS.filter((m) => m.worse(m.value(best), m.value(seed)));
    const show = (ms: readonly Metric<TierRun>[]): string =>
      ms.length === 0
        ? "nothing"
        : ms.map((m) => `${m.measure} (${m.text(best)} vs ${m.text(seed)})`).join(", ");
    out.push(
      `Timebound's best vs the seed's three tiers: better on ${show(wins)}; worse on ${show(losses)}.`,
    );
  }
  if (none !== undefined && seed !== undefined) {
    out.push(
      `The seed reports ${percent(SEED_REPORTED.errorRate.before)} errors, ` +
        `${formatMs(SEED_REPORTED.meanMs.before)} mean and ${formatMs(SEED_REPORTED.p99Ms.before)} P99 ` +
        `unprotected, and ${percent(SEED_REPORTED.errorRate.after)}, ` +
        `${formatMs(SEED_REPORTED.meanMs.after)} and ${formatMs(SEED_REPORTED.p99Ms.after)} with its ` +
        `three tiers; here, at ${formatCount(plan.rate)} requests/s: ` +
        `${percent(none.figures.errorRate)}, ${formatMs(none.figures.meanMs)}, ` +
        `${formatMs(none.figures.p99Ms)} unprotected, and ${percent(seed.figures.errorRate)}, ` +
        `${formatMs(seed.figures.meanMs)}, ${formatMs(seed.figures.p99Ms)} with the seed's ` +
        `configuration, of which ${percent(seed.figures.fallbackShare)} answered by a fallback.`,
    );
  }
  return out;
}

/**
 * What the run's length does to the figures, first, so that no verdict is read without it: a
 * quick run says how to get the full one, and an outage shorter than the seed's three attempts
 * lets its last attempts land after the outage, which flatters its figures.
 */
function runLengthNotes(plan: ThreeTierPlan): string[] {
  const t = plan.timeline;
  const outageMs = t.outageToMs - t.outageFromMs;
  const full = fullRunHint("three-tier", (scale) => scaled(RUN_MS, scale));
  const notes: string[] = [];
  if (plan.quick) {
    notes.push(`Quick run (the whole lab's): ${formatMs(plan.runMs)} per variant; ${full}.`);
  }
  if (outageMs < SEED_ATTEMPTS_MS) {
    const needed = Math.ceil((SEED_ATTEMPTS_MS / (OUTAGE.to - OUTAGE.from) / RUN_MS) * 10) / 10;
    notes.push(
      `Short run: the outage lasted ${formatMs(outageMs)}, less than the seed's three timed-out ` +
        `attempts and their backoff (${formatMs(SEED_ATTEMPTS_MS)}), so a request the outage ` +
        `caught could still be answered by a last attempt after it: the seed's figures, and the ` +
        `verdicts against them, are kinder than a longer outage would leave them. Rerun with ` +
        `--scale ${needed} or more for an outage that outlasts its attempts.`,
    );
  }
  return notes;
}

function setup(plan: ThreeTierPlan): string {
  const t = plan.timeline;
  return (
    `a node:http service calls a fault-injecting upstream (its own process: lognormal latency, ` +
    `median 20 ms, sigma 1; 3% answered 503; 0.5% hang; slower with its load; down, hanging, ` +
    `from ${formatMs(t.outageFromMs)} to ${formatMs(t.outageToMs)}) under autocannon at ` +
    `${formatCount(plan.rate)} requests/s asked (autocannon, in ten staggered slices) for ` +
    `${formatMs(plan.runMs)} per variant ` +
    `(${plan.quick ? "the whole lab's quick run" : `scale x${plan.runMs / RUN_MS}`}); ` +
    `clients give up after ${formatMs(plan.clientTimeoutMs)}. ` +
    `Seed's tiers: timeout ${formatMs(SEED_TIMEOUT_MS)}, breaker 50% / slow 600 ms / 10 ` +
    `half-open (open ${formatMs(plan.openMs)}), 2 retries from 100 ms, then cache or default. ` +
    `Timebound's best: a ${formatMs(REQUEST_BUDGET_MS)} request budget, adaptive concurrency, ` +
    `deadline-aware retry and p95 hedging under one 10% budget, breaker, cache or default. ` +
    `Latency and errors are the service's log (a request cut by the load's stop counts as an ` +
    `error if it had waited ${formatMs(CUT_COUNTS_AFTER_MS)}, else not at all); "recover": ` +
    `from the outage's end to the first ${formatMs(t.windowMs)} window whose share answered by ` +
    `the upstream is within ${RECOVERY_SLACK * 100} points of its level before the outage; ` +
    `"(worse)" marks a figure worse than the other column's`
  );
}

/** @internal Seed section 3.3: timeout, breaker, retry and fallback together, measured here. */
export const threeTier: Scenario = {
  id: "three-tier",
  title: "a service over a sick upstream: timeout, breaker, retry and fallback, measured",
  goArticle:
    "section 3.3 reports a payment gateway at 12,000 QPS going from 18.7% errors, 842 ms mean " +
    "and 3.2 s P99 to 0.02%, 23 ms and 47 ms with timeout 800 ms + breaker + 2 retries + fallback",
  wrong: "no protection",
  right: "protected (variant in the heading)",

  async run(options: LabOptions, progress: Progress): Promise<ScenarioResult> {
    const scale = loadScale(options, QUICK_SCALE);
    const plan = threeTierPlan(scale, RATE, scale < options.scale);
    const runs = await runThreeTier(plan, progress);
    if (typeof runs === "string") return skippedResult("three-tier", runs);
    return {
      setup: setup(plan),
      rows: threeTierRows(runs),
      findings: threeTierFindings(runs, plan),
    };
  },
};

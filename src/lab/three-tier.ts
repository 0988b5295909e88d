// Seed section 3.3: timeout + circuit breaker + retry, then fallback, measured. A node:http
// service calls a fault-injecting upstream (heavy-tailed latency, errors, hangs, one outage)
// under a fixed request rate, four ways; the table compares each protected variant with no
// protection, and the findings compare timebound's best with the seed's own configuration.
import { type Autocannon, loadAutocannon } from "./autocannon-slices.js";
import { formatCount, formatMs } from "./format.js";
import type { LabOptions } from "./options.js";
import { RECOVERY_SLACK } from "./outage-figures.js";
import {
  type OutageRun,
  outageMetrics,
  verdictOf,
  verdictText,
  withFigures,
} from "./outage-metrics.js";
import {
  OUTAGE,
  type OutagePlan,
  fullOutageRunHint,
  loadAt,
  outagePlan,
  planSizeText,
  scaleForShare,
  shortRuns,
} from "./outage-plan.js";
import { SICK_UPSTREAM, eachVariant, sickUpstreamText, throughOutage } from "./outage-run.js";
import type { Measurement, Progress, ResultRow, Scenario, ScenarioResult } from "./scenario.js";
import { loadScale } from "./quick.js";
import { skippedResult } from "./skipped.js";
import {
  type Metric,
  SEED_ARTICLE,
  capital,
  metricRows,
  percent,
  seedOrderText,
  seedReportedText,
  seedRows,
} from "./seed-table.js";
import { startFaultUpstream } from "../testing/index.js";
import { type LoadResult, drive } from "./three-tier-load.js";
import { type RequestRecord, ThreeTierService } from "./three-tier-service.js";
import { CUT_COUNTS_AFTER_MS, tierFigures } from "./three-tier-stats.js";
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
 * The scale of the whole lab's quick run: 2.4 s per variant, the size test/lab/three-tier.test.ts
 * checks the verdicts at. Four variants then take about 10 s instead of 16 s.
 */
const QUICK_SCALE = 0.15;

/** @internal What one variant measured, on the service's side and on the upstream's. */
export interface TierRun extends OutageRun {
  readonly variant: Variant;
  readonly load: LoadResult;
  /** How each request ended, for readers who want more than the figures. */
  readonly records: readonly RequestRecord[];
}

/**
 * @internal How a run is sized; {@link threeTierPlan} derives it from the lab's options. At scale
 * 0.25 a run lasts 4 s, the shortest in which the outage outlasts a timed-out attempt and its
 * retry (800 + 100 + 800 ms); `--scale 2.5` gives 40 s.
 */
export type ThreeTierPlan = OutagePlan;

/** @internal The plan for `scale` (and a rate, for tests); `quick` marks the whole lab's quick run. */
export function threeTierPlan(scale: number, rate = RATE, quick = false): ThreeTierPlan {
  return outagePlan(scale, rate, quick);
}

/** @internal Runs every variant in turn against one upstream process, reconfigured for each. */
export async function runThreeTier(
  plan: ThreeTierPlan,
  progress: Progress,
  variants: readonly Variant[] = VARIANTS,
): Promise<TierRun[] | string> {
  const autocannon = await loadAutocannon();
  if (typeof autocannon === "string") return autocannon;
  await using upstream = await startFaultUpstream(SICK_UPSTREAM);
  await warmUp(autocannon, upstream.url, plan);
  // Awaited here: `upstream` is disposed when this function returns.
  return await eachVariant("three-tier", plan, progress, variants, async (variant) => {
    const service = new ThreeTierService(upstream.url, variant.make(plan.openMs));
    await service.listen();
    try {
      const run = await throughOutage(
        upstream,
        plan,
        () => drive(autocannon, loadAt(plan, service.url)),
        () => {
          // The clock starts first: the outage then begins no earlier, in it, than it says.
          service.startClock();
          service.expectLoadEnd(plan.runMs - 5); // autocannon may close a few ms early
        },
      );
      await service.stop();
      return {
        variant,
        figures: tierFigures(service.records, plan.timeline),
        ...run,
        records: service.records,
      };
    } finally {
      await service.stop();
    }
  });
}

async function warmUp(
  autocannon: Autocannon,
  upstreamUrl: string,
  plan: OutagePlan,
): Promise<void> {
  const service = new ThreeTierService(upstreamUrl, (request, call) =>
    call(request, { ignoreContext: true }),
  );
  await service.listen();
  try {
    const load = loadAt(plan, service.url);
    await drive(autocannon, { ...load, durationMs: WARM_UP_MS, clientTimeoutMs: 2_000 });
  } finally {
    await service.stop();
  }
}

// ---- the table -------------------------------------------------------------------------------

const METRICS: readonly Metric<TierRun>[] = outageMetrics({
  errors: "error rate (no answer, or an error status)",
  fallback: "answered by a fallback (cache or default)",
  judgeFallback: true,
});

function variantRows(none: TierRun, run: TierRun, index: number): ResultRow[] {
  const letter = String.fromCharCode(97 + index); // (a), (b), (c)
  const group = `(${letter}) ${run.variant.label}, against no protection`;
  const rows = metricRows(METRICS, run.variant.key, group, none, run);
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
  const rows = seedRows("unprotected");
  if (none === undefined) return rows;
  runs.filter((r) => r !== none).forEach((r, i) => rows.push(...variantRows(none, r, i)));
  return rows;
}

/** @internal Conclusions, each computed from the runs. */
export function threeTierFindings(runs: readonly TierRun[], plan: ThreeTierPlan): string[] {
  const out: string[] = runLengthNotes(plan);
  const none = runs.find((r) => r.variant.key === "none");
  const { expected, short } = shortRuns(runs, plan, (r) => r.records.length);
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
      const v = verdictOf(METRICS, r, none, (m) => m.measure);
      out.push(`${capital(r.variant.label)} vs no protection: ${verdictText(v)}.`);
    }
  }
  const seed = runs.find((r) => r.variant.key === "seed");
  const best = runs.find((r) => r.variant.key === "timebound");
  if (seed !== undefined && best !== undefined) {
    const v = verdictOf(METRICS, best, seed, withFigures(best, seed));
    out.push(`Timebound's best vs the seed's three tiers: ${verdictText(v)}.`);
  }
  if (none !== undefined && seed !== undefined) {
    const reported = seedReportedText();
    out.push(
      `The seed reports ${reported.before} unprotected, and ${reported.after} with its three ` +
        `tiers; here, at ${formatCount(plan.rate)} requests/s: ${seedOrderText(none.figures)} ` +
        `unprotected, and ${seedOrderText(seed.figures)} with the seed's configuration, of which ` +
        `${percent(seed.figures.fallbackShare)} answered by a fallback.`,
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
  const full = fullOutageRunHint("three-tier");
  const notes: string[] = [];
  if (plan.quick) {
    notes.push(`Quick run (the whole lab's): ${formatMs(plan.runMs)} per variant; ${full}.`);
  }
  if (outageMs < SEED_ATTEMPTS_MS) {
    const needed = scaleForShare(SEED_ATTEMPTS_MS, OUTAGE.to - OUTAGE.from);
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
    `a node:http service calls a ${sickUpstreamText(t)} under autocannon at ` +
    `${formatCount(plan.rate)} requests/s asked (autocannon, in ten staggered slices) for ` +
    `${formatMs(plan.runMs)} per variant (${planSizeText(plan)}); ` +
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
  goArticle: SEED_ARTICLE,
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
